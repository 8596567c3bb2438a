import { type Logger, shortId } from "@chatgptchatbot/core";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * What the one log line of an RPC says about it, whichever path served it
 * (connect's interceptors, or the native gRPC unary handler): the method
 * (`ChatbotService/Chat`), the protocol, the HTTP version, the shortened
 * session id, and for a streamed reply the number of messages sent.
 */
export interface RpcLine {
  readonly rpc: string;
  readonly protocol: string;
  readonly http: string | undefined;
  session?: string | undefined;
  messages?: number;
}

/** The session id a request or answer names, shortened for logs; undefined when none. */
export function sessionOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("sessionId" in message)) return undefined;
  const id = (message as { sessionId: unknown }).sessionId;
  return typeof id === "string" && id !== "" ? shortId(id) : undefined;
}

/** The line of an RPC that ended with OK. */
export function logRpcOk(logger: Logger, line: RpcLine, ms: number): void {
  logger.info({ ...line, code: "ok", ms }, "rpc");
}

/**
 * The line of an RPC that failed: client errors at info, server-side failures
 * (UNAVAILABLE) at warn, bugs (INTERNAL, UNKNOWN) at error with their cause's
 * stack. `error` is what the client was told (already translated).
 */
export function logRpcFailed(logger: Logger, line: RpcLine, error: unknown, ms: number): void {
  const err = ConnectError.from(error);
  const fields = { ...line, code: codeName(err.code), ms, error: err.rawMessage };
  if (err.code === Code.Internal || err.code === Code.Unknown) {
    const cause = err.cause instanceof Error && err.cause.cause !== undefined ? err.cause.cause : err.cause;
    logger.error({ ...fields, cause: cause instanceof Error ? cause.stack : String(cause) }, "rpc failed");
  } else if (err.code === Code.Unavailable) {
    logger.warn(fields, "rpc failed");
  } else {
    logger.info(fields, "rpc failed");
  }
}

/** `Code.NotFound` → "not_found", as Connect spells codes on the wire. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) =>
    i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`,
  );
}
