/**
 * @chatgptchatbot/grpc-server: `muvtuber.chatbot.v2.ChatbotService` over
 * gRPC, gRPC-web and Connect on one port, as a library. Build it with
 * {@link createGrpcServer}; the `chatgptchatbot` command (apps/server) is the
 * program that serves it.
 */
export {
  createGrpcServer,
  DEFAULT_GRPC_HOST,
  DEFAULT_GRPC_PORT,
  DEFAULT_GRPC_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
} from "./server.js";
export type { CreateGrpcServerOptions, GrpcServer, ListenOptions } from "./server.js";
export { createRoutes } from "./routes.js";
export type { RoutesOptions } from "./routes.js";
export { createChatbotService } from "./chatbot-service.js";
export type { ChatbotServiceOptions } from "./chatbot-service.js";
export { GRPC_CODES, toConnectError } from "./errors.js";
export { RetryInfoSchema, retryInfo } from "./retry-info.js";
export { errorInterceptor, rpcLogInterceptor, serverInterceptors } from "./interceptors.js";
export { HealthStatus, ServingStatus, createHealthService } from "./health.js";
export { registerReflection } from "./reflection.js";
export { withCors } from "./cors.js";
export { accessTokenInterceptor, UNAUTHENTICATED_MESSAGE, WWW_AUTHENTICATE, withMetricsToken } from "./access-token.js";
export type { Authorize } from "./access-token.js";
export { isBrowserRequest, withHostGuard } from "./host-guard.js";
export type { AllowHost } from "./host-guard.js";
export type { CorsOptions } from "./cors.js";
export { createDualProtocolListener, HTTP2_PREFACE } from "./dual-protocol-listener.js";
export type { DualProtocolListener } from "./dual-protocol-listener.js";
export type { NodeHandlerFn } from "./node-handler.js";
export { callObserverInterceptor } from "./call-observer.js";
export type { CallObserver, CallRecord } from "./call-observer.js";
export { METRICS_PATH, withMetricsEndpoint } from "./metrics-endpoint.js";
export type { MetricsSource } from "./metrics-endpoint.js";
