/**
 * @chatgptchatbot/grpc-server: `muvtuber.chatbot.v2.ChatbotService` over
 * gRPC, gRPC-web and Connect on one port, as a library. Build it with
 * {@link createGrpcServer}; the `chatgptchatbot` command (apps/server) is the
 * program that serves it.
 */

export type { Authorize } from "./access-token.js";
export { accessTokenInterceptor, UNAUTHENTICATED_MESSAGE, WWW_AUTHENTICATE, withMetricsToken } from "./access-token.js";
export type { CallObserver, CallRecord } from "./call-observer.js";
export { callObserverInterceptor } from "./call-observer.js";
export type { ChatbotServiceOptions } from "./chatbot-service.js";
export { createChatbotService } from "./chatbot-service.js";
export type { CorsOptions } from "./cors.js";
export { withCors } from "./cors.js";
export type { DualProtocolListener } from "./dual-protocol-listener.js";
export { createDualProtocolListener, HTTP2_PREFACE } from "./dual-protocol-listener.js";
export { GRPC_CODES, toConnectError } from "./errors.js";
export { createHealthService, HealthStatus, ServingStatus } from "./health.js";
export type { AllowHost } from "./host-guard.js";
export { isBrowserRequest, withHostGuard } from "./host-guard.js";
export { errorInterceptor, rpcLogInterceptor, serverInterceptors } from "./interceptors.js";
export type { MetricsSource } from "./metrics-endpoint.js";
export { METRICS_PATH, withMetricsEndpoint } from "./metrics-endpoint.js";
export type { NodeHandlerFn } from "./node-handler.js";
export { registerReflection } from "./reflection.js";
export { RetryInfoSchema, retryInfo } from "./retry-info.js";
export type { RoutesOptions } from "./routes.js";
export { createRoutes } from "./routes.js";
export type { CreateGrpcServerOptions, GrpcServer, ListenOptions } from "./server.js";
export {
  createGrpcServer,
  DEFAULT_GRPC_CLOSE_TIMEOUT_MS,
  DEFAULT_GRPC_HOST,
  DEFAULT_GRPC_PORT,
  DEFAULT_MAX_MESSAGE_BYTES,
} from "./server.js";
