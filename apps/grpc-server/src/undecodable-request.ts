import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";

/** What connect-es says of a message flagged compressed in a request that named no compression (as INTERNAL). */
export const UNDECLARED_COMPRESSION = "received compressed envelope, but do not know how to decompress";

/**
 * A request body connect-es could not decode: not protobuf ("parse binary: …"),
 * or a message flagged compressed without a declared encoding. It reports both as INTERNAL.
 */
export function isUndecodableRequest(error: unknown): error is ConnectError {
  return (
    error instanceof ConnectError &&
    error.code === Code.Internal &&
    (error.rawMessage.startsWith("parse binary: ") || error.rawMessage === UNDECLARED_COMPRESSION)
  );
}

/**
 * Bytes that are not the method's protobuf message are the client's mistake,
 * so the client gets INVALID_ARGUMENT, never INTERNAL (issue 10). connect-es
 * decodes the body before any interceptor runs, so `errorInterceptor` never
 * sees the error; but in all three protocols (gRPC, gRPC-web, Connect) it
 * aborts the call's context with the error before it derives the status from
 * it. This request gate, which connect-es runs first for every call, listens
 * for that abort and corrects the error's code in place. The end-to-end test
 * (test/hostile-input.e2e.test.ts) fails if a connect-es update changes that order.
 */
export function undecodableRequestGate(context: HandlerContext): void {
  context.signal.addEventListener(
    "abort",
    () => {
      const reason: unknown = context.signal.reason;
      if (isUndecodableRequest(reason)) (reason as { code: Code }).code = Code.InvalidArgument;
    },
    { once: true },
  );
}
