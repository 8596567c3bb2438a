/**
 * Access tokens on the HTTP API: every route but `/healthz` (and `/metrics`
 * when it is public) needs `Authorization: Bearer <token>` when the server
 * has tokens. Which tokens, and how they are compared, is the `authorize`
 * predicate the program passes in.
 */
import type { MiddlewareHandler } from "hono";
import { TEXT_PLAIN } from "./error-response.js";

/** Decides whether an `Authorization` header value (undefined when absent) carries a valid token. */
export type Authorize = (authorization: string | undefined) => boolean;

export interface AccessTokenOptions {
  readonly authorize: Authorize;
  /** Paths answered without a token (exact match). */
  readonly publicPaths: readonly string[];
}

/**
 * Refuses requests without a valid token with 401 and `WWW-Authenticate:
 * Bearer` (RFC 6750), before their body is read. Unknown paths are refused
 * too, so a caller without a token learns nothing about the routes.
 */
export function accessToken({ authorize, publicPaths }: AccessTokenOptions): MiddlewareHandler {
  const open = new Set(publicPaths);
  return async function accessToken(c, next) {
    if (open.has(c.req.path) || authorize(c.req.header("authorization"))) {
      await next();
      return;
    }
    return c.text("this server needs an access token: send Authorization: Bearer <token>", 401, {
      "content-type": TEXT_PLAIN,
      "www-authenticate": "Bearer",
    });
  };
}
