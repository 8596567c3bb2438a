import type { ServerResponse } from "node:http";
import type { Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type Logger, type SessionPool, silentLogger } from "@chatgptchatbot/core";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { type Authorize, accessTokenInterceptor, withMetricsToken } from "./access-token.js";
import { withBoundedTimeouts } from "./bounded-timeout.js";
import { type CallObserver, callObserverInterceptor } from "./call-observer.js";
import { createChatbotService } from "./chatbot-service.js";
import { withCors } from "./cors.js";
import { createDualProtocolListener } from "./dual-protocol-listener.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import { HealthStatus } from "./health.js";
import { type AllowHost, withHostGuard } from "./host-guard.js";
import { httpVersionKey, serverInterceptors } from "./interceptors.js";
import { type MetricsSource, withMetricsEndpoint } from "./metrics-endpoint.js";
import { createNativeGrpc } from "./native-grpc.js";
import type { NodeHandlerFn } from "./node-handler.js";
import { createRoutes } from "./routes.js";
import { undecodableRequestGate } from "./undecodable-request.js";

export const DEFAULT_GRPC_HOST = "localhost";
export const DEFAULT_GRPC_PORT = 50052;
export const DEFAULT_GRPC_CLOSE_TIMEOUT_MS = 10_000;
/** The largest request message accepted: 4 MiB, gRPC's usual default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface CreateGrpcServerOptions {
  /** The session pool, shared with the other transports of the process. */
  readonly pool: SessionPool;
  /** pino or any pino-compatible logger: one line per RPC. */
  readonly logger?: Logger;
  /** Origins browsers may call from; `["*"]` (the default) for any. */
  readonly corsOrigins?: readonly string[];
  /** Serve gRPC server reflection, v1 and v1alpha (default false). */
  readonly reflection?: boolean;
  /**
   * Serves requests that are no RPC (for example the browser playground's
   * static files at `/`); default: 404.
   */
  readonly fallback?: NodeHandlerFn;
  /** The largest request message accepted, in bytes (default 4 MiB); larger ones get RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes?: number;
  /** Serves `GET /metrics` from it (default: none, 404). */
  readonly metrics?: MetricsSource;
  /** Told about every finished RPC: method, protocol, code, duration (default: none). */
  readonly onCall?: CallObserver;
  /**
   * When given, every RPC but health, and `GET /metrics` unless
   * `publicMetrics`, needs `authorization: Bearer <token>` that this accepts
   * (else UNAUTHENTICATED / 401). Default: no token needed.
   */
  readonly authorize?: Authorize;
  /** `/metrics` answers without a token even when `authorize` is given (default false). */
  readonly publicMetrics?: boolean;
  /**
   * Serve ChatbotService over binary gRPC (its unary methods and ChatStream)
   * with a handler of this package on the raw HTTP/2 stream instead of
   * connect-node (default true): the same answers at a third less CPU per
   * chat (see `native-grpc.ts`). Everything else is served by connect either way.
   */
  readonly nativeGrpc?: boolean;
  /**
   * When given, browser requests (with `Origin` or `Sec-Fetch-*`) whose Host
   * this refuses get 403 (DNS rebinding). Default: no host check.
   */
  readonly allowHost?: AllowHost;
}

export interface ListenOptions {
  /** Interface to bind (default "localhost"). */
  readonly host?: string;
  /** Port to bind (default 50052; 0: one the OS picks). */
  readonly port?: number;
}

export interface GrpcServer {
  /** The health status the `grpc.health.v1.Health` service reports. */
  readonly health: HealthStatus;
  /**
   * The request handler (CORS + every service, every protocol through
   * connect-node), for embedding in another node:http(2) server. The native
   * gRPC handler (`nativeGrpc`) works on HTTP/2 streams before this, so only
   * {@link listen} serves it.
   */
  readonly handler: NodeHandlerFn;
  /** Where it listens, e.g. "http://127.0.0.1:50052"; throws before {@link listen} resolved. */
  readonly url: string;
  /** Binds gRPC (h2c), gRPC-web and Connect (HTTP/1.1 and h2c) on one port. */
  listen(options?: ListenOptions): Promise<{ url: string; host: string; port: number }>;
  /**
   * Stops gracefully: health turns NOT_SERVING, no new connection is
   * accepted, HTTP/2 clients get GOAWAY, in-flight calls finish within
   * `timeoutMs`, then whatever is left is cut. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Builds the RPC server: `muvtuber.chatbot.v2.ChatbotService`, health and
 * (optionally) reflection, over gRPC, gRPC-web and Connect, with CORS, on one
 * cleartext port that accepts HTTP/1.1 and HTTP/2.
 */
export function createGrpcServer({
  pool,
  logger = silentLogger,
  corsOrigins = ["*"],
  reflection = false,
  fallback,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  metrics,
  onCall,
  authorize,
  publicMetrics = false,
  allowHost,
  nativeGrpc = true,
}: CreateGrpcServerOptions): GrpcServer {
  const health = new HealthStatus();
  const service = createChatbotService({ pool, logger });
  const rpc = connectNodeAdapter({
    routes: createRoutes({ pool, service, health, reflection }),
    // The call observer is outermost, so it sees the status the client gets (refusals included); the token check
    // runs inside the log line's interceptor, so refusals are logged (as unauthenticated, never the token).
    interceptors: [
      ...(onCall === undefined ? [] : [callObserverInterceptor(onCall)]),
      ...serverInterceptors({ logger }),
      ...(authorize === undefined ? [] : [accessTokenInterceptor(authorize)]),
    ],
    requestGate: undecodableRequestGate, // a body that is not protobuf: INVALID_ARGUMENT, not INTERNAL
    readMaxBytes: maxMessageBytes,
    contextValues: (req) => createContextValues().set(httpVersionKey, req.httpVersion),
    ...(fallback === undefined ? {} : { fallback }),
  });
  let inner: NodeHandlerFn = withBoundedTimeouts(withSpecGrpcMessage(rpc));
  // GET /metrics sits behind the token check and the host guard, like every RPC.
  if (metrics !== undefined) inner = withMetricsEndpoint({ source: metrics, logger }, inner);
  if (authorize !== undefined && !publicMetrics) inner = withMetricsToken({ authorize }, inner);
  // Inside CORS, so a refused cross-origin page can still read why.
  if (allowHost !== undefined) inner = withHostGuard({ allowHost }, inner);
  const handler = withCors({ origins: corsOrigins }, inner);

  let closing = false;
  const inflight = new Set<ServerResponse>();
  const native = nativeGrpc
    ? createNativeGrpc({
        service,
        logger,
        maxMessageBytes,
        ...(onCall === undefined ? {} : { onCall }),
        ...(authorize === undefined ? {} : { authorize }),
      })
    : undefined;
  const listener = createDualProtocolListener((req, res) => {
    if ("shouldKeepAlive" in res) {
      // HTTP/1.1: once closing, answers say Connection: close so keep-alive clients let go.
      if (closing) res.shouldKeepAlive = false;
      inflight.add(res);
      res.once("close", () => {
        inflight.delete(res);
        if (closing) listener.http1.closeIdleConnections();
      });
    }
    handler(req, res);
  }, native);
  const sessions = new Set<Http2Session>();
  listener.http2.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) session.close();
  });
  // A client that resets or breaks a connection is its own problem, not the server's.
  listener.http2.on("sessionError", (error: Error) => logger.debug({ err: error.message }, "http2 session error"));
  listener.http1.on("clientError", (error: Error, socket: Duplex) => {
    logger.debug({ err: error.message }, "http1 client error");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  let url: string | undefined;
  let closed: Promise<void> | undefined;

  return {
    health,
    handler,
    get url(): string {
      if (url === undefined) throw new Error("the server is not listening yet");
      return url;
    },

    async listen({ host = DEFAULT_GRPC_HOST, port = DEFAULT_GRPC_PORT } = {}) {
      await new Promise<void>((resolve, reject) => {
        listener.server.once("error", reject);
        listener.server.listen(port, host, () => {
          listener.server.off("error", reject);
          resolve();
        });
      });
      const address = listener.server.address() as AddressInfo;
      const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      url = `http://${urlHost}:${address.port}`;
      return { url, host: address.address, port: address.port };
    },

    close({ timeoutMs = DEFAULT_GRPC_CLOSE_TIMEOUT_MS } = {}) {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        health.shutdown();
        for (const res of inflight) if (!res.headersSent) res.shouldKeepAlive = false;
        const timer = setTimeout(() => {
          for (const session of sessions) session.destroy();
          for (const socket of listener.sockets) socket.destroy();
        }, timeoutMs);
        timer.unref();
        // Resolves once every connection has ended (net.Server counts the handed-over sockets).
        listener.server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const session of sessions) session.close(); // GOAWAY; streams in flight run to their end
        listener.http1.close(); // closes idle keep-alive connections, stops its timeout checks
        // Connections still sending their first bytes carry no call yet.
        for (const socket of listener.unclassified) socket.destroy();
      });
      return closed;
    },
  };
}
