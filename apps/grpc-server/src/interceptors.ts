import { type Logger, shortId } from "@chatgptchatbot/core";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";

/**
 * Translates whatever a handler throws into the ConnectError sent to the
 * client (see {@link toConnectError}): the one place errors become statuses.
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (error) {
    throw toConnectError(error);
  }
};

/** The HTTP version a call came over ("1.1" or "2.0"), set by the server for the log line. */
export const httpVersionKey = createContextKey<string | undefined>(undefined, { description: "HTTP version" });

/** The RPC protocol of a request, from its Content-Type. */
export function protocolOf(header: Headers): string {
  const type = header.get("content-type") ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** `Code.NotFound` → "not_found", as Connect spells codes on the wire. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

/** The session id a call names or returns, if any. */
function sessionOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("sessionId" in message)) return undefined;
  const id = (message as { sessionId: unknown }).sessionId;
  return typeof id === "string" && id !== "" ? shortId(id) : undefined;
}

/**
 * Logs one line per RPC: method, protocol, HTTP version, shortened session id, status code
 * and latency. Client errors at info, server-side failures at warn, bugs at
 * error with their cause. Never a credential: messages are not logged here.
 */
export function rpcLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const base = {
      rpc: `${req.service.name}/${req.method.name}`,
      protocol: protocolOf(req.header),
      http: req.contextValues.get(httpVersionKey),
      session: req.stream ? undefined : sessionOf(req.message),
    };
    try {
      const res = await next(req);
      const session = base.session ?? (res.stream ? undefined : sessionOf(res.message));
      logger.info({ ...base, session, code: "ok", ms: Math.round(performance.now() - started) }, "rpc");
      return res;
    } catch (error) {
      const err = ConnectError.from(error);
      const line = { ...base, code: codeName(err.code), ms: Math.round(performance.now() - started), error: err.rawMessage };
      if (err.code === Code.Internal || err.code === Code.Unknown) {
        const cause = err.cause instanceof Error && err.cause.cause !== undefined ? err.cause.cause : err.cause;
        logger.error({ ...line, cause: cause instanceof Error ? cause.stack : String(cause) }, "rpc failed");
      } else if (err.code === Code.Unavailable) {
        logger.warn(line, "rpc failed");
      } else {
        logger.info(line, "rpc failed");
      }
      throw error;
    }
  };
}

/** The server's interceptors, outermost first: the log line sees the translated status. */
export function serverInterceptors({ logger }: { logger: Logger }): Interceptor[] {
  return [rpcLogInterceptor(logger), errorInterceptor];
}
