import { clientIdentifier } from "@chatgptchatbot/core";
import { cors } from "@connectrpc/connect";
import type { NodeHandlerFn } from "./node-handler.js";

export interface CorsOptions {
  /** Origins browsers may call from (`https://app.example`), or `*` for any. */
  readonly origins: readonly string[];
  /** How long browsers may cache a preflight answer, in seconds (default 7200). */
  readonly maxAgeSeconds?: number;
}

/**
 * CORS for browser clients of gRPC-web and Connect: answers preflights with
 * the methods and headers those protocols need, and exposes their response
 * headers and trailers (Connect's own lists, from `@connectrpc/connect`). A
 * request from an origin not allowed gets no CORS headers (the browser then
 * refuses it); its preflight is answered 403.
 */
export function withCors({ origins, maxAgeSeconds = 7200 }: CorsOptions, next: NodeHandlerFn): NodeHandlerFn {
  const any = origins.includes("*");
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
  const allowMethods = cors.allowedMethods.join(", ");
  // Authorization: browser clients send the server's access token; WWW-Authenticate: they may read why they were refused.
  const allowHeaders = [...cors.allowedHeaders, "Authorization"].join(", ");
  const exposeHeaders = [...cors.exposedHeaders, "WWW-Authenticate"].join(", ");

  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || origin === "") {
      next(req, res);
      return;
    }
    const ok = any || allowed.has(origin.toLowerCase());
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!any) res.setHeader("Vary", "Origin");
    if (!ok) {
      if (preflight) {
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
        res.end(`origin ${clientIdentifier(origin)} is not allowed`); // the client's header: quoted short
        return;
      }
      next(req, res);
      return;
    }
    res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
    if (preflight) {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": allowMethods,
        "Access-Control-Allow-Headers": allowHeaders,
        "Access-Control-Max-Age": String(maxAgeSeconds),
        "Content-Length": "0",
      });
      res.end();
      return;
    }
    res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
    next(req, res);
  };
}
