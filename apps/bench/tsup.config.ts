import { defineConfig } from "tsup";

// A private app: one bundle per process the harness starts, no .d.ts.
export default defineConfig({
  entry: [
    "src/main.ts",
    "src/load-worker.ts",
    "src/upstream-main.ts",
    "src/hop-main.ts",
    "src/memory-main.ts",
    "src/profile-summary.ts",
    "src/compare.ts",
    "src/components-main.ts",
    "src/instant-server-main.ts",
    "src/store-bench-main.ts",
    "src/pool-store-main.ts",
    "src/token-worst-case-main.ts",
    "src/redis-pool-main.ts",
    "src/stream-latency-main.ts",
    "src/reference-main.ts",
    "src/versus-reference.ts",
  ],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node22",
  // tsup strips `node:` by default, but `sqlite` exists only as `node:sqlite`.
  removeNodeProtocol: false,
});
