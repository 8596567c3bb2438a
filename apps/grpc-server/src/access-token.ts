/**
 * Access tokens on the gRPC port: RPCs (every service but health) and
 * `/metrics` need `authorization: Bearer <token>` when the server has tokens.
 * Which tokens, and how they are compared, is the `authorize` predicate the
 * program passes in; this file only decides what is guarded and how a refusal
 * is answered.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { NodeHandlerFn } from "./node-handler.js";

/** Decides whether an `authorization` header value (undefined when absent) carries a valid token. */
export type Authorize = (authorization: string | undefined) => boolean;

/** The challenge every refusal carries (RFC 6750, 3). */
export const WWW_AUTHENTICATE = "Bearer";

/** What a refused caller is told; never echoes what it sent. */
export const UNAUTHENTICATED_MESSAGE = "this server needs an access token: send authorization: Bearer <token>";

/** The health service answers without a token: load balancers and orchestrators probe it. */
const OPEN_SERVICES: ReadonlySet<string> = new Set(["grpc.health.v1.Health"]);

/** The refusal of an RPC without a valid token: UNAUTHENTICATED, with the challenge as metadata. */
export function unauthenticated(): ConnectError {
  return new ConnectError(UNAUTHENTICATED_MESSAGE, Code.Unauthenticated, { "www-authenticate": WWW_AUTHENTICATE });
}

/** True for the services that answer without a token (health). */
export function isOpenService(typeName: string): boolean {
  return OPEN_SERVICES.has(typeName);
}

/**
 * Refuses RPCs without a valid token with UNAUTHENTICATED (HTTP 401 over
 * Connect) and `www-authenticate: Bearer`. An interceptor sees exactly the
 * RPCs, with their service, whatever the protocol (gRPC metadata and HTTP
 * headers are the same headers here).
 */
export function accessTokenInterceptor(authorize: Authorize): Interceptor {
  return (next) => async (req) => {
    if (!isOpenService(req.service.typeName) && !authorize(req.header.get("authorization") ?? undefined)) {
      throw unauthenticated();
    }
    return next(req);
  };
}

/**
 * Guards `GET /metrics` on this port (whoever serves it further in): without
 * a valid token, 401 with `WWW-Authenticate: Bearer`. RPCs are left to
 * {@link accessTokenInterceptor}; everything else (the playground's page) is
 * public, as a browser must load the page before anyone can type a token.
 */
export function withMetricsToken({ authorize }: { authorize: Authorize }, next: NodeHandlerFn): NodeHandlerFn {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    const header = req.headers.authorization;
    if (path === "/metrics" && !authorize(typeof header === "string" ? header : undefined)) {
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8", "www-authenticate": WWW_AUTHENTICATE });
      res.end(`${UNAUTHENTICATED_MESSAGE}\n`);
      return;
    }
    next(req, res);
  };
}
