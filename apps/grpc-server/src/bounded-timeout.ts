import { MAX_TIMER_MS } from "./native-grpc.js";
import type { NodeHandlerFn } from "./node-handler.js";

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** A timeout header's value in ms, as gRPC (`grpc-timeout`: 8 digits and a unit) or Connect (`connect-timeout-ms`) writes it; undefined when malformed. */
export function timeoutMs(name: "grpc-timeout" | "connect-timeout-ms", value: string): number | undefined {
  if (name === "connect-timeout-ms") return /^\d{1,10}$/.test(value) ? Number(value) : undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2]!]!;
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
