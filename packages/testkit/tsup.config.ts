import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
  // The testing entry calls describe/it/expect: it must use the vitest that runs the tests. Bundled
  // (vitest is no dependency of testkit, so tsup would inline it), its describe() registers into a
  // copy with no runner, and a package outside core cannot run the conformance suites from dist.
  external: ["vitest"],
});
