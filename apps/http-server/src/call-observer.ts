import type { MiddlewareHandler } from "hono";

/**
 * One answered request, for metrics: its route (one of the API's paths, or
 * "other", so a scanner's paths cannot grow the label set), protocol "http",
 * its HTTP status as a string and how long it took. Nothing that identifies
 * a client or a credential.
 */
export interface CallRecord {
  readonly method: string;
  readonly protocol: string;
  readonly code: string;
  readonly seconds: number;
}

/** Told about every answered request; must be cheap, and one that throws is ignored. */
export type CallObserver = (call: CallRecord) => void;

/** Reports each request to `observe` once it is answered, its route named from `routes` or "other". */
export function callObserver({
  observe,
  routes,
}: {
  observe: CallObserver;
  routes: readonly string[];
}): MiddlewareHandler {
  const known = new Set(routes);
  return async function callObserver(c, next) {
    const started = performance.now();
    await next();
    try {
      observe({
        method: known.has(c.req.path) ? c.req.path : "other",
        protocol: "http",
        code: String(c.res.status),
        seconds: (performance.now() - started) / 1000,
      });
    } catch {
      // A metric never fails a request.
    }
  };
}
