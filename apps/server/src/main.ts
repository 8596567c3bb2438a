#!/usr/bin/env node
/**
 * The `chatgptchatbot` command: `node dist/main.js [--grpc host:port]
 * [--http host:port] [--debug]`. Serves until SIGINT/SIGTERM, then stops
 * gracefully and exits 0; a second signal exits at once. The browser
 * playground is served at `/` on the gRPC port.
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
