import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each *.int.test.ts file gets its own fresh database (createTestApi), so files can run in
    // parallel; two workers match the 2-core CI machine.
    maxWorkers: 2,
  },
});
