import { type Backends, createBackendsFromConfig } from "@chatgptchatbot/chatgpt-client";
import { ConfigError, maskSecret, readConfig } from "@chatgptchatbot/core";
import type { DestinationStream } from "pino";
import { createHttpApp } from "./app.js";
import { parseCliArgs, usage } from "./cli.js";
import { createLogger } from "./logger.js";
import { createPoolFromConfig } from "./pool-from-config.js";
import { type RunningHttpServer, startHttpServer } from "./server.js";

export interface RunHttpServerOptions {
  /** Command-line arguments, without node and the script. */
  readonly argv: readonly string[];
  /** The environment, read once (see `--help`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Settles when the server should shut down (main: on SIGINT/SIGTERM), with the reason to log. */
  readonly shutdown: Promise<string>;
  /** Where `--help` goes (default: process.stdout). */
  readonly stdout?: { write(text: string): unknown };
  /** Where a configuration error or a port that cannot be bound goes, as one line (default: process.stderr). */
  readonly stderr?: { write(text: string): unknown };
  /** Where log lines go (default: stdout). */
  readonly logDestination?: DestinationStream;
  /** Called once the server listens. */
  readonly onListening?: (server: RunningHttpServer) => void;
}

/**
 * The standalone HTTP server, from flags and environment to a graceful stop:
 * reads the configuration, builds the backends and the session pool, serves
 * until `shutdown` settles, then closes the server (in-flight requests get
 * CHATBOT_SHUTDOWN_TIMEOUT), the pool and the backends.
 *
 * @returns the exit code: 0 after a clean stop or `--help`, 2 for a bad flag or
 *   variable (proxy variables included), 1 when the port cannot be bound.
 */
export async function runHttpServer({
  argv,
  env,
  shutdown,
  stdout = process.stdout,
  stderr = process.stderr,
  logDestination,
  onListening,
}: RunHttpServerOptions): Promise<number> {
  const configError = (error: unknown): number => {
    if (!(error instanceof ConfigError)) throw error;
    stderr.write(`chatgptchatbot-http: ${error.message} (see --help)\n`);
    return 2;
  };
  let args;
  let config;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      stdout.write(usage());
      return 0;
    }
    config = readConfig(env);
  } catch (error) {
    return configError(error);
  }

  const logger = createLogger({
    level: args.debug ? "debug" : config.logLevel,
    ...(logDestination === undefined ? {} : { destination: logDestination }),
  });
  let backends: Backends;
  try {
    backends = createBackendsFromConfig(config, env, logger); // reads HTTP(S)_PROXY / NO_PROXY
  } catch (error) {
    return configError(error);
  }
  const pool = createPoolFromConfig({ config, backends: backends.resolve, logger });
  const stop = async (): Promise<void> => {
    await pool.close({ timeoutMs: config.shutdownTimeoutMs });
    await backends.close();
  };

  let server: RunningHttpServer;
  try {
    const app = createHttpApp({ pool, logger, bodyLimitBytes: config.httpBodyLimitBytes });
    server = await startHttpServer({ app, host: args.http.host, port: args.http.port });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    logger.fatal({ err: err.message, code: err.code, host: args.http.host, port: args.http.port }, "cannot serve the HTTP API");
    stderr.write(`chatgptchatbot-http: cannot listen on ${args.http.host}:${args.http.port}: ${err.message}\n`);
    await stop();
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
  onListening?.(server);

  const reason = await shutdown;
  logger.info({ reason, timeoutMs: config.shutdownTimeoutMs }, "shutting down");
  await server.close({ timeoutMs: config.shutdownTimeoutMs });
  await stop();
  logger.info({}, "stopped");
  return 0;
}
