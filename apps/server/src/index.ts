/**
 * @chatgptchatbot/server: the `chatgptchatbot` command (`dist/main.js`), and
 * the pieces it is built from for tools that compose the program differently
 * (the benchmark's server): the environment table, the logger, the pool and
 * backends from a configuration, the flags, the shutdown signal.
 */
export { runServer } from "./run.js";
export type { RunServerOptions } from "./run.js";
export { readConfig, defaultConfig, configReference, configReferenceMarkdown } from "./config.js";
export type { ServerConfig, LogLevel } from "./config.js";
export { createLogger, REDACTED_LOG_FIELDS } from "./logger.js";
export type { CreateLoggerOptions } from "./logger.js";
export { createPoolFromConfig, poolOptionsFromConfig } from "./pool-from-config.js";
export { createBackendsFromConfig } from "./backends-from-config.js";
export { parseCliArgs, usage, flagsMarkdown, FLAGS } from "./cli.js";
export type { CliArgs } from "./cli.js";
export { parseHostPort } from "./host-port.js";
export type { HostPort } from "./host-port.js";
export { shutdownSignal } from "./shutdown-signal.js";
