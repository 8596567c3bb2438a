/**
 * The standalone legacy HTTP server: `node dist/main.js [--http host:port] [--debug]`.
 * Reads the environment once (see `--help`), serves until SIGINT/SIGTERM, then
 * shuts down gracefully within CHATBOT_SHUTDOWN_TIMEOUT.
 */
import { createBackendsFromConfig } from "@chatgptchatbot/chatgpt-client";
import { ConfigError, maskSecret, readConfig } from "@chatgptchatbot/core";
import { createHttpApp } from "./app.js";
import { parseCliArgs, usage } from "./cli.js";
import { createLogger } from "./logger.js";
import { createPoolFromConfig } from "./pool-from-config.js";
import { startHttpServer } from "./server.js";

async function main(): Promise<number> {
  let args;
  let config;
  try {
    args = parseCliArgs(process.argv.slice(2));
    if (args.help) {
      process.stdout.write(usage());
      return 0;
    }
    config = readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`chatgptchatbot-http: ${error.message}\n(see --help)\n`);
    return 2;
  }

  const logger = createLogger({ level: args.debug ? "debug" : config.logLevel });
  const backends = createBackendsFromConfig(config, process.env);
  const pool = createPoolFromConfig({ config, backends: backends.resolve, logger });
  const app = createHttpApp({ pool, logger, bodyLimitBytes: config.httpBodyLimitBytes });
  let server;
  try {
    server = await startHttpServer({ app, host: args.http.host, port: args.http.port });
  } catch (error) {
    logger.fatal({ err: error, host: args.http.host, port: args.http.port }, "cannot listen");
    await pool.close();
    await backends.close();
    return 1;
  }
  logger.info(
    {
      url: server.url,
      defaultApiKeys: config.defaultApiKeys.map(maskSecret),
      defaultAccessTokens: config.defaultAccessTokens.map(maskSecret),
    },
    "HTTP API listening: POST /ask, POST /renew, GET /healthz",
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down");
  // A second signal does not wait for in-flight requests.
  const force = (): never => process.exit(1);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  await server.close({ timeoutMs: config.shutdownTimeoutMs });
  await pool.close({ timeoutMs: config.shutdownTimeoutMs });
  await backends.close();
  logger.info({}, "stopped");
  return 0;
}

process.exitCode = await main();
