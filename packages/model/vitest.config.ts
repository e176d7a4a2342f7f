import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Files run one at a time: the machine has 2 cores shared with other packages' tests,
    // and each file's wasm backend is single-threaded anyway.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Pin the backend so results do not depend on which optional backends are installed;
    // set RCMNET_BACKEND=native (or cpu) to run the suite on another one.
    env: { RCMNET_BACKEND: process.env['RCMNET_BACKEND'] ?? 'wasm' },
  },
});
