#!/usr/bin/env node
/**
 * The `chatgptchatbot` command: `node dist/main.js [--grpc host:port]
 * [--http host:port] [--debug]`. Serves until SIGINT/SIGTERM, then stops
 * gracefully and exits 0; a second signal exits at once. The browser
 * playground is served at `/` on the gRPC port.
 */
import { createPlaygroundFallback } from "@chatgptchatbot/playground";
import { runServer } from "./run.js";

const shutdown = new Promise<string>((resolve) => {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
    stopping = true;
    resolve(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
});

process.exitCode = await runServer({
  argv: process.argv.slice(2),
  env: process.env,
  shutdown,
  createFallback: () => createPlaygroundFallback(), // only when gRPC is served; assets missing: a warning, no playground
});
