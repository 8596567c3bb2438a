import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
  // The conformance suites call vitest's describe/it: they must use the test
  // runner's own vitest, not a copy bundled into dist (whose runner state is
  // never set up, so describe fails). vitest is not a dependency, so tsup
  // would otherwise bundle it.
  external: ["vitest"],
});
