/**
 * The DNS-rebinding guard on the HTTP API's port: a web page on a name its
 * author controls can point that name at 127.0.0.1 and call `/ask` from the
 * same origin, where CORS never applies; the `Host` its browser sends still
 * names the attacker's domain, so such requests are refused.
 */
import type { MiddlewareHandler } from "hono";
import { TEXT_PLAIN } from "./error-response.js";

/** Decides whether a `Host` header value (host[:port]) may be served to a browser. */
export type AllowHost = (host: string) => boolean;

/**
 * Refuses browser requests (those with `Origin` or any `Sec-Fetch-*` header;
 * other clients send neither and are never refused) whose Host is not
 * allowed, with 403.
 */
export function hostGuard({ allowHost }: { allowHost: AllowHost }): MiddlewareHandler {
  return async function hostGuard(c, next) {
    const headers = c.req.raw.headers;
    let browser = headers.has("origin");
    if (!browser) for (const name of headers.keys()) if (name.startsWith("sec-fetch-")) browser = true;
    const host = headers.get("host");
    if (browser && (host === null || !allowHost(host))) {
      return c.text("this server does not answer browsers under this host name (see CHATBOT_ALLOWED_HOSTS)", 403, {
        "content-type": TEXT_PLAIN,
      });
    }
    await next();
  };
}
