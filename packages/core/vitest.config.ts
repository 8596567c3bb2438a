import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const from = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // core's tests use testkit's helpers, and testkit depends on core: a
    // package dependency back would be a cycle. So core's tests read
    // testkit's sources, and both see core's own sources (one ChatbotError
    // class, not one from src and one from dist). tsconfig.json maps the same.
    alias: {
      "@chatgptchatbot/testkit/testing": from("../testkit/src/testing/index.ts"),
      "@chatgptchatbot/core": from("./src/index.ts"),
    },
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
