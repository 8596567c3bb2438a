import { defineConfig } from "tsup";

// The Node side (the request handler). The browser page is bundled by build-page.mjs into dist/assets.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
