/**
 * The DNS-rebinding guard on the gRPC port. A web page on a name its author
 * controls can point that name at 127.0.0.1 and call this server from the
 * same origin, where CORS never applies; the `Host` it sends still names the
 * attacker's domain. So a browser's request whose `Host` is not allowed is
 * refused, before it reaches any RPC or page.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { NodeHandlerFn } from "./node-handler.js";

/** Decides whether a `Host` header value (host[:port]) may be served to a browser. */
export type AllowHost = (host: string) => boolean;

/**
 * A browser's request: browsers send `Origin` on every POST and cross-origin
 * request, and `Sec-Fetch-*` on every request (other clients send neither,
 * so gRPC clients dialing a service name are never refused).
 */
export function isBrowserRequest(headers: IncomingHttpHeaders): boolean {
  if (headers.origin !== undefined) return true;
  return Object.keys(headers).some((name) => name.startsWith("sec-fetch-"));
}

/**
 * Refuses browser requests whose Host (or HTTP/2 `:authority`) is not
 * allowed with 403: web clients read it as PERMISSION_DENIED (Connect and
 * gRPC-web map HTTP 403 so), and a page is simply not served.
 */
export function withHostGuard({ allowHost }: { allowHost: AllowHost }, next: NodeHandlerFn): NodeHandlerFn {
  return (req, res) => {
    if (isBrowserRequest(req.headers)) {
      const authority = req.headers[":authority"] ?? req.headers.host;
      const host = typeof authority === "string" ? authority : undefined;
      if (host === undefined || !allowHost(host)) {
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
        res.end("this server does not answer browsers under this host name (see CHATBOT_ALLOWED_HOSTS)\n");
        return;
      }
    }
    next(req, res);
  };
}
