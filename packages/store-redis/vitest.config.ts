import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Each file starts its own redis-server processes, sharing 2 cores with other suites.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
