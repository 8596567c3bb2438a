/**
 * @chatgptchatbot/http-server: the legacy HTTP API (POST /ask, POST /renew,
 * GET /healthz) on Hono. Build it with {@link createHttpApp}, bind it with
 * {@link startHttpServer}; `dist/main.js` is the standalone entry.
 */
export { createHttpApp } from "./app.js";
export type { CreateHttpAppOptions, HttpApp } from "./app.js";
export {
  startHttpServer,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_CLOSE_TIMEOUT_MS,
} from "./server.js";
export type { StartHttpServerOptions, RunningHttpServer, CloseOptions, FetchApp } from "./server.js";
export { DefaultSession } from "./default-session.js";
export type { DefaultSessionMemory, DefaultSessionOptions, DefaultSessionSnapshot, RenewInput } from "./default-session.js";
export { parseHostPort } from "./host-port.js";
export type { HostPort } from "./host-port.js";
export { createLogger } from "./logger.js";
export type { CreateLoggerOptions } from "./logger.js";
export { createPoolFromConfig } from "./pool-from-config.js";
export { shutdownSignal } from "./shutdown-signal.js";
export { errorReply } from "./error-response.js";
export type { ErrorReply } from "./error-response.js";
