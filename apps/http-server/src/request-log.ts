import type { Logger } from "@chatgptchatbot/core";
import type { MiddlewareHandler } from "hono";

export interface RequestLogOptions {
  readonly logger: Logger;
  /** The clock for latency, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * Logs one line per request once it is answered: method, path (never the
 * query or the body), status and latency. 5xx at warn, the rest at info.
 */
export function requestLog({ logger, now = () => performance.now() }: RequestLogOptions): MiddlewareHandler {
  return async function requestLog(c, next) {
    const start = now();
    await next();
    const line = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((now() - start) * 10) / 10,
    };
    if (c.res.status >= 500) logger.warn(line, "request");
    else logger.info(line, "request");
  };
}
