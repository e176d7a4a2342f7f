import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Compile the addon once before the workers start, instead of once per worker.
    globalSetup: ['./src/testing/buildOnce.ts'],
    testTimeout: 60_000,
  },
});
