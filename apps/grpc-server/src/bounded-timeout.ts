import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import type { NodeHandlerFn } from "./node-handler.js";

/** The longest delay a timer holds (`setTimeout` fires a longer one after 1 ms, with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timeout header's value in ms, read by the parser connect itself applies
 * to it (`grpc-timeout`: 8 digits and a unit; `connect-timeout-ms`: 10
 * digits); undefined when malformed.
 */
export function timeoutMs(name: "grpc-timeout" | "connect-timeout-ms", value: string): number | undefined {
  const parse = name === "grpc-timeout" ? parseGrpcTimeout : parseConnectTimeout;
  return parse(value, Number.MAX_SAFE_INTEGER).timeoutMs;
}

/**
 * Connect turns a client's timeout into a timer, and a timer longer than
 * ~24.8 days fires after 1 ms (with a warning on stderr, per call): a legal
 * `grpc-timeout: 99999999H` would end the call at once. A timeout that long is
 * as good as none, so its header is removed before connect reads it (the
 * native gRPC path does the same, see native-grpc.ts). Malformed values are
 * left for connect to refuse.
 */
export function withBoundedTimeouts(next: NodeHandlerFn): NodeHandlerFn {
  return (req, res) => {
    for (const name of ["grpc-timeout", "connect-timeout-ms"] as const) {
      const value = req.headers[name];
      if (typeof value !== "string") continue;
      const ms = timeoutMs(name, value);
      if (ms !== undefined && ms > MAX_TIMER_MS) delete req.headers[name];
    }
    next(req, res);
  };
}
