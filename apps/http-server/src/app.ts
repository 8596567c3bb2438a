import { type ChatbotError, ErrorCode, type Logger, type SessionPool, silentLogger } from "@chatgptchatbot/core";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { type Authorize, accessToken } from "./access-token.js";
import { BROKEN_REQUEST_MESSAGE, isBrokenRequest } from "./broken-request.js";
import { type CallObserver, callObserver } from "./call-observer.js";
import { DefaultSession } from "./default-session.js";
import { errorReply } from "./error-response.js";
import { acceptsEventStream, chatEventStream, EVENT_STREAM } from "./event-stream.js";
import { type AllowHost, hostGuard } from "./host-guard.js";
import { parseJsonObject, requiredString } from "./json-body.js";
import { parseRenewRequest } from "./renew-request.js";
import { requestLog } from "./request-log.js";

/** The largest request body accepted by default: 1 MiB (CHATBOT_HTTP_BODY_LIMIT's default). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreateHttpAppOptions {
  /** The session pool, shared with the other transports (one cooldown per credential for all). */
  readonly pool: SessionPool;
  /** pino or any pino-compatible logger; prompts and replies are logged at debug only. */
  readonly logger?: Logger;
  /** Largest request body in bytes; 413 beyond (default {@link DEFAULT_BODY_LIMIT_BYTES}, 1 MiB). */
  readonly bodyLimitBytes?: number;
  /** The default session's state; by default a new one in `pool`. */
  readonly defaultSession?: DefaultSession;
  /** Serves `GET /metrics` from it (default: none, 404). */
  readonly metrics?: MetricsSource;
  /** Told about every answered request: route, status, duration (default: none). */
  readonly onCall?: CallObserver;
  /**
   * Whether this replica can serve now (the program: its shared session store
   * is reachable); false: `/healthz` answers 503, so a load balancer sends
   * requests elsewhere. Default: always.
   */
  readonly ready?: () => boolean;
  /**
   * When given, every route but `/healthz` (and `/metrics` when
   * `publicMetrics`) needs `Authorization: Bearer <token>` that this accepts,
   * else 401. Default: no token needed.
   */
  readonly authorize?: Authorize;
  /** `/metrics` answers without a token even when `authorize` is given (default false). */
  readonly publicMetrics?: boolean;
  /** When given, browser requests whose Host this refuses get 403 (DNS rebinding). Default: no host check. */
  readonly allowHost?: AllowHost;
}

/** The metrics exposition to serve: its content type and text (for example a Prometheus registry's). */
export type MetricsSource = () => Promise<{ readonly contentType: string; readonly body: string }>;

/** The API's paths, as call metrics name them (any other path is "other"). */
const ROUTES = ["/ask", "/renew", "/healthz", "/metrics"] as const;

/**
 * Builds the legacy HTTP API of the old service:
 *
 * - `POST /ask` `{"prompt": "..."}` → 200 text/plain, the reply of the default session; with
 *   `Accept: text/event-stream`, the reply as Server-Sent Events, sentence by sentence (see `event-stream.ts`);
 * - `POST /renew` `{"access_token": "..."}` or `{"api_key": "...", "version": 3}` → 200 `ok`:
 *   the default session starts over with that credential;
 * - `GET /healthz` → 200 `ok`; 503 `session store unavailable` while `ready()` is false;
 * - `GET /metrics` → the `metrics` source's exposition (Prometheus text), when one is given; 404 otherwise.
 *
 * Every failure is text/plain with the status of this app's error table (see
 * {@link errorReply}). Bodies are JSON whatever their Content-Type, as before.
 */
export function createHttpApp({
  pool,
  logger = silentLogger,
  bodyLimitBytes = DEFAULT_BODY_LIMIT_BYTES,
  defaultSession = new DefaultSession({ pool, logger }),
  metrics,
  onCall,
  ready = () => true,
  authorize,
  publicMetrics = false,
  allowHost,
}: CreateHttpAppOptions) {
  if (!(Number.isInteger(bodyLimitBytes) && bodyLimitBytes > 0)) {
    throw new RangeError(`bodyLimitBytes must be a whole number > 0, got ${bodyLimitBytes}`);
  }
  const limit = bodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw new HTTPException(413, { message: `the request body is larger than ${bodyLimitBytes} bytes` });
    },
  });

  /** Bugs at error with their cause, upstream failures at warn; the request log line says the rest. */
  const logFailure = (error: ChatbotError, request: { method: string; path: string }): void => {
    if (error.code === ErrorCode.Internal) {
      logger.error({ ...request, err: error.cause }, "internal error");
    } else if (error.code === ErrorCode.Upstream) {
      logger.warn({ ...request, err: error.message, upstreamStatus: error.upstreamStatus }, "upstream failed");
    }
  };

  const base = new Hono();
  base.use(requestLog({ logger }));
  if (onCall !== undefined) base.use(callObserver({ observe: onCall, routes: ROUTES }));
  // After the log line (refusals are logged), before anything reads a body.
  if (allowHost !== undefined) base.use(hostGuard({ allowHost }));
  if (authorize !== undefined)
    base.use(accessToken({ authorize, publicPaths: publicMetrics ? ["/healthz", "/metrics"] : ["/healthz"] }));
  base.use(methodNotAllowed({ app: base }));

  const app = base
    .get("/healthz", (c) => (ready() ? c.text("ok") : c.text("session store unavailable", 503)))
    .get("/metrics", async (c) => {
      if (metrics === undefined) return c.notFound();
      let exposition: Awaited<ReturnType<MetricsSource>>;
      try {
        exposition = await metrics();
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, "metrics could not be collected");
        return c.text("metrics could not be collected", 503);
      }
      return c.body(exposition.body, 200, { "content-type": exposition.contentType, "cache-control": "no-store" });
    })
    .post("/ask", limit, async (c) => {
      const prompt = requiredString(parseJsonObject(await c.req.text()), "prompt");
      logger.debug({ prompt }, "ask");
      if (acceptsEventStream(c.req.header("accept"))) {
        const parts = defaultSession.askStream({ prompt, signal: c.req.raw.signal });
        // Failures before the first event are thrown here and answered with today's statuses by onError.
        const first = await parts.next();
        if (first.done === true) throw new Error("a streamed ask ended without its reply");
        const body = chatEventStream({
          parts,
          first: first.value,
          onError: (error) => logFailure(error, { method: c.req.method, path: c.req.path }),
        });
        // no-cache and no proxy buffering: each event must reach the client as soon as it is written.
        return c.body(body, 200, {
          "content-type": EVENT_STREAM,
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        });
      }
      const reply = await defaultSession.ask({ prompt, signal: c.req.raw.signal });
      logger.debug({ reply }, "reply");
      return c.text(reply);
    })
    .post("/renew", limit, async (c) => {
      await defaultSession.renew(parseRenewRequest(parseJsonObject(await c.req.text())));
      return c.text("ok");
    });

  app.notFound((c) => c.text("not found: the API is POST /ask, POST /renew and GET /healthz", 404));

  app.onError((thrown, c) => {
    if (isBrokenRequest(thrown, c.env)) {
      // The client's fault (malformed chunks, an aborted upload): no stack, not a bug. Node has usually answered 400
      // and closed the socket already; the request log line says 400 too.
      const reason = thrown instanceof Error ? thrown.message : String(thrown);
      logger.debug({ method: c.req.method, path: c.req.path, reason }, "request body unreadable");
      return c.text(BROKEN_REQUEST_MESSAGE, 400);
    }
    const reply = errorReply(thrown);
    if (reply.error !== undefined) logFailure(reply.error, { method: c.req.method, path: c.req.path });
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  });

  return app;
}

/** The Hono app {@link createHttpApp} builds, with its route types. */
export type HttpApp = ReturnType<typeof createHttpApp>;
