/**
 * @chatgptchatbot/http-server: the legacy HTTP API (POST /ask, POST /renew,
 * GET /healthz) on Hono, as a library. Build it with {@link createHttpApp},
 * bind it with {@link startHttpServer}; the `chatgptchatbot` command
 * (apps/server) serves it with `--http host:port`.
 */

export type { AccessTokenOptions, Authorize } from "./access-token.js";
export { accessToken } from "./access-token.js";
export type { CreateHttpAppOptions, HttpApp, MetricsSource } from "./app.js";
export { createHttpApp, DEFAULT_BODY_LIMIT_BYTES } from "./app.js";
export type { CallObserver, CallRecord } from "./call-observer.js";
export { callObserver } from "./call-observer.js";
export type {
  DefaultSessionMemory,
  DefaultSessionOptions,
  DefaultSessionSnapshot,
  RenewInput,
} from "./default-session.js";
export { DefaultSession } from "./default-session.js";
export type { ErrorReply } from "./error-response.js";
export { errorReply } from "./error-response.js";
export { HTTP_STATUSES, httpStatus, upstreamHttpStatus } from "./error-status.js";
export type { AllowHost } from "./host-guard.js";
export { hostGuard } from "./host-guard.js";
export type { CloseOptions, FetchApp, RunningHttpServer, StartHttpServerOptions } from "./server.js";
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  startHttpServer,
} from "./server.js";
