/**
 * @chatgptchatbot/server: the `chatgptchatbot` command (`dist/main.js`), and
 * the pieces it is built from for tools that compose the program differently
 * (the benchmark's server): the environment table, the logger, the pool and
 * backends from a configuration, the flags, the shutdown signal.
 */

export { createBackendsFromConfig } from "./backends-from-config.js";
export type { CliArgs } from "./cli.js";
export { FLAGS, flagsMarkdown, parseCliArgs, usage } from "./cli.js";
export type { LogLevel, ServerConfig } from "./config.js";
export { configReference, configReferenceMarkdown, defaultConfig, readConfig } from "./config.js";
export type { HostPort } from "./host-port.js";
export { parseHostPort } from "./host-port.js";
export type { CreateLoggerOptions } from "./logger.js";
export { createLogger, REDACTED_LOG_FIELDS } from "./logger.js";
export { createPoolFromConfig, poolOptionsFromConfig } from "./pool-from-config.js";
export type { RunServerOptions } from "./run.js";
export { runServer } from "./run.js";
export { shutdownSignal } from "./shutdown-signal.js";
