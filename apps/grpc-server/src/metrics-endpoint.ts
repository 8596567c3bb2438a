import { type Logger, silentLogger } from "@chatgptchatbot/core";
import type { NodeHandlerFn } from "./node-handler.js";

/** The metrics exposition to serve: its content type and text (for example a Prometheus registry's). */
export type MetricsSource = () => Promise<{ readonly contentType: string; readonly body: string }>;

/** The path metrics are served at, as Prometheus scrapes by default. */
export const METRICS_PATH = "/metrics";

/**
 * Serves `GET /metrics` (and HEAD) from `source` in front of `next`; every
 * other request goes on to `next`. Another method on the path: 405. A source
 * that fails: 503, logged (a scrape is retried on the next interval).
 */
export function withMetricsEndpoint(
  { source, logger = silentLogger }: { source: MetricsSource; logger?: Logger },
  next: NodeHandlerFn,
): NodeHandlerFn {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== METRICS_PATH) {
      next(req, res);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("method not allowed: GET /metrics");
      return;
    }
    source().then(
      ({ contentType, body }) => {
        res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        if (req.method === "HEAD") res.end();
        else res.end(body);
      },
      (error: unknown) => {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, "metrics could not be collected");
        if (!res.headersSent) res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
        res.end("metrics could not be collected");
      },
    );
  };
}
