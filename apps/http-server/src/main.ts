/**
 * The standalone legacy HTTP server: `node dist/main.js [--http host:port] [--debug]`.
 * Serves until SIGINT/SIGTERM, then stops gracefully; a second signal exits at once.
 */
import { runHttpServer } from "./run.js";

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

process.exitCode = await runHttpServer({ argv: process.argv.slice(2), env: process.env, shutdown });
