#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=131072 NODE_OPTIONS="--max-semi-space-size=8 ${NODE_OPTIONS}" node
/**
 * The `chatgptchatbot` command: `chatgptchatbot [--grpc host:port]
 * [--http host:port] [--debug]`. Serves until SIGINT/SIGTERM, then stops
 * gracefully and exits 0; a second signal exits at once. The browser
 * playground is served at `/` on the gRPC port.
 *
 * The first line starts Node with V8's young generation capped at 1 MB per
 * semi-space (issue 10, BENCHMARKS.md "Memory under hostile input"): by
 * default V8 grows it to 64 MB under a high request rate and never gives it
 * back. It is a default, not a cap on live data: the operator's own
 * NODE_OPTIONS come after it, and V8 takes the last value of a flag. Run as
 * `node dist/main.js`, the line is a comment and V8's defaults apply.
 */
import { createPlaygroundFallback } from "@chatgptchatbot/playground";
import { runServer } from "./run.js";
import { shutdownSignal } from "./shutdown-signal.js";

process.exitCode = await runServer({
  argv: process.argv.slice(2),
  env: process.env,
  shutdown: shutdownSignal(),
  createFallback: () => createPlaygroundFallback(), // only when gRPC is served; assets missing: a warning, no playground
});
