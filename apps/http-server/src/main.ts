/**
 * The standalone legacy HTTP server: `node dist/main.js [--http host:port] [--debug]`.
 * Serves until SIGINT/SIGTERM, then stops gracefully; a second signal exits at once.
 */
import { runHttpServer } from "./run.js";
import { shutdownSignal } from "./shutdown-signal.js";

process.exitCode = await runHttpServer({ argv: process.argv.slice(2), env: process.env, shutdown: shutdownSignal() });
