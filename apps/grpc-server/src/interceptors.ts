import type { Logger } from "@chatgptchatbot/core";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";
import { logRpcFailed, logRpcOk, type RpcLine, sessionOf } from "./rpc-log.js";

/**
 * Translates whatever a handler throws into the ConnectError sent to the
 * client (see {@link toConnectError}): the one place errors become statuses.
 * A streaming handler runs only as its messages are read, so its errors,
 * before the first message or after it, are translated as they surface.
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: translated(res.message, req.signal) } : res;
  } catch (error) {
    throw translate(error, req.signal);
  }
};

async function* translated<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  try {
    yield* messages;
  } catch (error) {
    throw translate(error, signal);
  }
}

/**
 * A call its deadline ended is DEADLINE_EXCEEDED, as on the native gRPC path:
 * connect aborts the call's signal with that reason, but the handler only
 * sees its work aborted (which alone would be CANCELED).
 */
function translate(error: unknown, signal: AbortSignal): ConnectError {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) return reason;
  return toConnectError(error);
}

/** The HTTP version a call came over ("1.1" or "2.0"), set by the server for the log line. */
export const httpVersionKey = createContextKey<string | undefined>(undefined, { description: "HTTP version" });

/** The RPC protocol of a request, from its Content-Type. */
export function protocolOf(header: Headers): string {
  const type = header.get("content-type") ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** Yields `messages`, telling `seen` about each one as it passes. */
async function* tapped<T>(messages: AsyncIterable<T>, seen: (message: T) => void): AsyncGenerator<T, void, undefined> {
  for await (const message of messages) {
    seen(message);
    yield message;
  }
}

/**
 * Logs one line per RPC: method, protocol, HTTP version, shortened session id, status code
 * and latency; a streamed reply's line comes when the stream ends, with the
 * number of messages sent. Client errors at info, server-side failures at warn, bugs at
 * error with their cause. Never a credential: messages are not logged here.
 */
export function rpcLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    let session = req.stream ? undefined : sessionOf(req.message);
    const base: RpcLine = {
      rpc: `${req.service.name}/${req.method.name}`,
      protocol: protocolOf(req.header),
      http: req.contextValues.get(httpVersionKey),
    };
    const ms = (): number => Math.round(performance.now() - started);
    const failed = (error: unknown, extra: { messages?: number } = {}): void =>
      logRpcFailed(logger, { ...base, session, ...extra }, error, ms());
    // A streamed request's session id is known once the handler has read its message.
    const request = req.stream ? { ...req, message: tapped(req.message, (m) => (session ??= sessionOf(m))) } : req;
    try {
      const res = await next(request);
      if (res.stream) return { ...res, message: logged(res.message) };
      session ??= sessionOf(res.message);
      logRpcOk(logger, { ...base, session }, ms());
      return res;
    } catch (error) {
      failed(error);
      throw error;
    }

    async function* logged<T>(messages: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
      let sent = 0;
      let ended = false;
      try {
        for await (const message of messages) {
          sent++;
          yield message;
        }
        ended = true;
        logRpcOk(logger, { ...base, session, messages: sent }, ms());
      } catch (error) {
        ended = true;
        failed(error, { messages: sent });
        throw error;
      } finally {
        // The server stopped reading (the client went away between two messages): still one line.
        if (!ended) failed(new ConnectError("the client went away", Code.Canceled), { messages: sent });
      }
    }
  };
}

/** The server's interceptors, outermost first: the log line sees the translated status. */
export function serverInterceptors({ logger }: { logger: Logger }): Interceptor[] {
  return [rpcLogInterceptor(logger), errorInterceptor];
}
