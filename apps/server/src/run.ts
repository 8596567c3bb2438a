import { homedir } from "node:os";
import type { Backends } from "@chatgptchatbot/chatgpt-client";
import { ConfigError, type Logger, maskSecret } from "@chatgptchatbot/core";
import { createGrpcServer, type GrpcServer, type NodeHandlerFn, ServingStatus } from "@chatgptchatbot/grpc-server";
import { createHttpApp, DefaultSession, type RunningHttpServer, startHttpServer } from "@chatgptchatbot/http-server";
import { SqliteStoreError } from "@chatgptchatbot/store-sqlite";
import type { DestinationStream } from "pino";
import { createTokenCheck } from "./access-tokens.js";
import { createHostAllowlist } from "./allowed-hosts.js";
import { createBackendsFromConfig } from "./backends-from-config.js";
import { type CliArgs, parseCliArgs, usage } from "./cli.js";
import { readConfig, type ServerConfig } from "./config.js";
import { startIdleMemoryReducer } from "./idle-memory-reducer.js";
import { chooseLogFormat, createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createPoolFromConfig } from "./pool-from-config.js";
import { openSessionStorage, type SessionStorage, StoreOpenError } from "./session-storage.js";
import { watchStoreHealth } from "./store-health.js";

export interface RunServerOptions {
  /** Command-line arguments, without node and the script. */
  readonly argv: readonly string[];
  /** The environment, read once at start (see `--help`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Settles when the server should stop (main: on SIGINT/SIGTERM), with the reason to log. */
  readonly shutdown: Promise<string>;
  /** Where `--help` goes (default: process.stdout). */
  readonly stdout?: { write(text: string): unknown };
  /** Where a configuration error goes, as one line (default: process.stderr). */
  readonly stderr?: { write(text: string): unknown };
  /** Where log lines go (default: stdout). */
  readonly logDestination?: DestinationStream;
  /**
   * Builds the handler for what is no RPC on the gRPC port (main: the browser
   * playground). Called only when gRPC is served, never for `--help` or a bad
   * flag; when it throws (e.g. the playground was not built), a warning is
   * logged and those requests get 404. Default: 404.
   */
  readonly createFallback?: () => NodeHandlerFn;
  /** Called once every server listens, with their URLs. */
  readonly onListening?: (urls: { grpc?: string; http?: string }) => void;
  /** The user's home folder, for the default store path without XDG_STATE_HOME (default: os.homedir()). */
  readonly homeDir?: string;
}

/**
 * The `chatgptchatbot` program, from flags and environment to a graceful
 * stop: reads and validates the configuration once, builds the backends and
 * ONE session pool (so a credential's cooldown is shared by every transport),
 * serves gRPC/gRPC-web/Connect and/or the legacy HTTP API until `shutdown`
 * settles, then stops accepting, lets in-flight calls finish (bounded by
 * CHATBOT_SHUTDOWN_TIMEOUT), stops the pool's timers and closes upstream
 * connections.
 *
 * Sessions, the HTTP API's default session and cooldowns live in the store
 * CHATBOT_STORE chose (SQLite at the default path unless told otherwise), so
 * they survive a restart; the file (or the Redis connection) is closed after
 * the pool has stopped. With Redis, several replicas share one pool, and
 * health (gRPC and /healthz) says NOT_SERVING while Redis is unreachable.
 *
 * @returns the exit code: 0 after a clean stop or `--help`, 2 for a bad flag
 *   or variable or a store that cannot be used (corrupt, newer schema, wrong
 *   key, …), 1 when an address cannot be bound.
 */
export async function runServer({
  argv,
  env,
  shutdown,
  stdout = process.stdout,
  stderr = process.stderr,
  logDestination,
  createFallback,
  onListening,
  homeDir = homedir(),
}: RunServerOptions): Promise<number> {
  const configError = (error: unknown): number => {
    if (!(error instanceof ConfigError)) throw error;
    stderr.write(`chatgptchatbot: ${error.message} (see --help)\n`);
    return 2;
  };
  let args: CliArgs;
  let config: ServerConfig;
  try {
    args = parseCliArgs(argv);
    if (args.help) {
      stdout.write(usage());
      return 0;
    }
    config = readConfig(env);
    if (args.debug) config = { ...config, logLevel: "debug", grpcReflection: true };
  } catch (error) {
    return configError(error);
  }
  // One registry per program run, fed by every layer's observer; none at all with CHATBOT_METRICS=false.
  const metrics = config.metrics ? createMetrics() : undefined;
  const isTerminal = logDestination === undefined && process.stdout.isTTY === true;
  const logger = createLogger({
    level: config.logLevel,
    format: chooseLogFormat({ configured: config.logFormat, isTerminal }),
    colorize: isTerminal,
    ...(logDestination === undefined ? {} : { destination: logDestination }),
    ...(metrics === undefined ? {} : { onDroppedLine: metrics.droppedLogLine }),
  });
  let backends: Backends;
  try {
    const observer = metrics === undefined ? {} : { observer: metrics.upstream };
    backends = createBackendsFromConfig({ config, proxyEnv: env, logger, ...observer }); // reads HTTP(S)_PROXY / NO_PROXY
  } catch (error) {
    return configError(error);
  }

  let storage: SessionStorage;
  try {
    storage = await openSessionStorage({
      choice: config.store,
      key: config.storeKey,
      serverCredentials: { apiKeys: config.defaultApiKeys, accessTokens: config.defaultAccessTokens },
      env,
      homeDir,
      redisPrefix: config.redisPrefix,
      zombieAfterMs: 2 * config.renewIntervalMs, // the pool's zombie time (its default: twice the renew interval)
      logger,
    });
  } catch (error) {
    if (!(error instanceof SqliteStoreError || error instanceof StoreOpenError)) throw error;
    // One line naming the file and the problem: the operator decides (move the file aside, set the key, upgrade).
    logger.fatal({ err: error.message }, "cannot open the session store");
    stderr.write(`chatgptchatbot: ${error.message}\n`);
    await backends.close();
    return 2;
  }
  // Session calls (NewSession, each chat turn) resolve their backend: that is what keeps the reducer from running.
  const reducer = startIdleMemoryReducer({ idleAfterMs: config.idleGcAfterMs, logger });
  const pool = createPoolFromConfig({
    config,
    backends: (sessionConfig) => {
      reducer.noteCall();
      return backends.resolve(sessionConfig);
    },
    logger,
    store: storage.store,
    coordinator: storage.coordinator,
    ...(metrics === undefined ? {} : { observer: metrics.pool, observeStore: metrics.store }),
  });
  metrics?.countSessions(() => pool.size());
  const served = metrics === undefined ? {} : { metrics: metrics.source, onCall: metrics.onCall };
  // Both ports: the same tokens, and the same host names (the names of both bind addresses).
  const guards = {
    ...(config.authTokens.length === 0 ? {} : { authorize: createTokenCheck({ tokens: config.authTokens }) }),
    publicMetrics: config.metricsPublic,
    ...optional(
      "allowHost",
      createHostAllowlist({
        allowed: config.allowedHosts,
        boundHosts: [args.grpc?.host, args.http?.host].filter((h) => h !== undefined),
      }),
    ),
  };

  let grpc: GrpcServer | undefined;
  let http: RunningHttpServer | undefined;
  const urls: { grpc?: string; http?: string } = {};
  // A shared store (Redis) can become unreachable while serving: health says so, so a load balancer sends calls to a
  // replica that can serve them (each call would fail with UNAVAILABLE here anyway).
  const storeHealth =
    storage.isReady === undefined
      ? undefined
      : watchStoreHealth({
          isReady: storage.isReady,
          logger,
          onChange: (ready) => grpc?.health.set(ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING),
        });
  const closeAll = async (): Promise<void> => {
    reducer.stop();
    storeHealth?.stop(); // before the servers' shutdown sets NOT_SERVING for good
    await Promise.all([
      grpc?.close({ timeoutMs: config.shutdownTimeoutMs }),
      http?.close({ timeoutMs: config.shutdownTimeoutMs }),
    ]);
    await pool.close({ timeoutMs: config.shutdownTimeoutMs });
    await storage.close();
    await backends.close();
  };

  try {
    if (args.grpc !== undefined) {
      const fallback = buildFallback(createFallback, logger);
      grpc = createGrpcServer({
        pool,
        logger,
        corsOrigins: config.corsOrigins,
        reflection: config.grpcReflection,
        ...served,
        ...guards,
        ...(fallback === undefined ? {} : { fallback }),
      });
      if (storeHealth?.ready() === false) grpc.health.set(ServingStatus.NOT_SERVING);
      urls.grpc = (await grpc.listen(args.grpc)).url;
    }
    if (args.http !== undefined) {
      const defaultSession = new DefaultSession({ pool, logger, memory: storage.defaultSessionMemory });
      const app = createHttpApp({
        pool,
        logger,
        bodyLimitBytes: config.httpBodyLimitBytes,
        defaultSession,
        ...served,
        ...guards,
        ...(storeHealth === undefined ? {} : { ready: storeHealth.ready }),
      });
      http = await startHttpServer({ app, host: args.http.host, port: args.http.port });
      urls.http = http.url;
    }
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    logger.fatal({ err: err.message, code: err.code }, "cannot listen");
    stderr.write(`chatgptchatbot: cannot listen: ${err.message}\n`);
    await closeAll();
    return 1;
  }

  logger.info(
    {
      ...urls,
      reflection: grpc === undefined ? undefined : config.grpcReflection,
      defaultApiKeys: config.defaultApiKeys.map(maskSecret),
      defaultAccessTokens: config.defaultAccessTokens.map(maskSecret),
      maxSessions: config.maxSessions,
      accessTokens: config.authTokens.length, // how many, never which
      hostGuard: guards.allowHost === undefined ? "off" : "on",
      ...storage.description,
    },
    "listening",
  );
  onListening?.(urls);

  const reason = await shutdown;
  logger.info({ reason, timeoutMs: config.shutdownTimeoutMs }, "shutting down: finishing in-flight calls");
  await closeAll();
  logger.info({}, "stopped");
  return 0;
}

/** `{ [key]: value }`, or `{}` when value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The fallback handler, or undefined (404) when there is none or it cannot be built. */
function buildFallback(create: (() => NodeHandlerFn) | undefined, logger: Logger): NodeHandlerFn | undefined {
  if (create === undefined) return undefined;
  try {
    return create();
  } catch (error) {
    logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "no browser playground: it cannot be served",
    );
    return undefined;
  }
}
