import { type Logger, shortId } from "@chatgptchatbot/core";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";

/**
 * Translates whatever a handler throws into the ConnectError sent to the
 * client (see {@link toConnectError}): the one place errors become statuses.
 * A streaming handler runs only as its messages are read, so its errors,
 * before the first message or after it, are translated as they surface.
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: translated(res.message) } : res;
  } catch (error) {
    throw toConnectError(error);
  }
};

async function* translated<T>(messages: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error);
  }
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

/** `Code.NotFound` → "not_found", as Connect spells codes on the wire. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) =>
    i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`,
  );
}

/** The session id a call names or returns, if any. */
function sessionOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("sessionId" in message)) return undefined;
  const id = (message as { sessionId: unknown }).sessionId;
  return typeof id === "string" && id !== "" ? shortId(id) : undefined;
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
    const base = {
      rpc: `${req.service.name}/${req.method.name}`,
      protocol: protocolOf(req.header),
      http: req.contextValues.get(httpVersionKey),
    };
    const ms = (): number => Math.round(performance.now() - started);
    const failed = (error: unknown, extra: { messages?: number } = {}): void => {
      const err = ConnectError.from(error);
      const line = { ...base, session, ...extra, code: codeName(err.code), ms: ms(), error: err.rawMessage };
      if (err.code === Code.Internal || err.code === Code.Unknown) {
        const cause = err.cause instanceof Error && err.cause.cause !== undefined ? err.cause.cause : err.cause;
        logger.error({ ...line, cause: cause instanceof Error ? cause.stack : String(cause) }, "rpc failed");
      } else if (err.code === Code.Unavailable) {
        logger.warn(line, "rpc failed");
      } else {
        logger.info(line, "rpc failed");
      }
    };
    // A streamed request's session id is known once the handler has read its message.
    const request = req.stream ? { ...req, message: tapped(req.message, (m) => (session ??= sessionOf(m))) } : req;
    try {
      const res = await next(request);
      if (res.stream) return { ...res, message: logged(res.message) };
      session ??= sessionOf(res.message);
      logger.info({ ...base, session, code: "ok", ms: ms() }, "rpc");
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
        logger.info({ ...base, session, messages: sent, code: "ok", ms: ms() }, "rpc");
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
