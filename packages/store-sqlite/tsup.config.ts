import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
  // tsup strips `node:` by default, but `sqlite` exists only as `node:sqlite`.
  removeNodeProtocol: false,
});
