import { type Dispatcher, request } from "undici";
import { bodyStream } from "./body-stream.js";

/** The `fetch` signature the `openai` SDK accepts. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface UndiciFetchOptions {
  /** The shared dispatcher (keep-alive pools, proxy routing). */
  readonly dispatcher: Dispatcher;
}

/** Statuses whose response has no body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A minimal `fetch` on top of undici's `request`: no spec machinery (CORS,
 * redirects, decompression), which costs a fraction of the CPU of Node's
 * global fetch per request, and the shared keep-alive dispatcher instead of
 * the global one. Enough for an API client: string/URL input; string or byte
 * bodies; headers; an AbortSignal that closes the upstream connection.
 *
 * The signal is its only limit: undici's headers and body timeouts (and the
 * dispatcher's 300 s defaults) are off, so the caller's deadline, which
 * covers the whole reply, is the one timeout (see `AttemptDeadline`).
 *
 * It asks for an uncompressed reply (any `accept-encoding` header is dropped)
 * and does not follow redirects: a 3xx is returned as it is. A body cancelled
 * after the reply's end marker is drained, not dropped, so the connection is
 * reused (see {@link bodyStream}).
 */
export function createUndiciFetch({ dispatcher }: UndiciFetchOptions): FetchLike {
  return async function undiciFetch(input, init = {}) {
    if (typeof input !== "string" && !(input instanceof URL)) {
      throw new TypeError("undiciFetch takes a URL string or URL, not a Request");
    }
    const method = (init.method ?? "GET").toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      if (name !== "accept-encoding") headers[name] = value;
    });
    const response = await request(input, {
      dispatcher,
      method: method as Dispatcher.HttpMethod,
      headers,
      body: await requestBody(init.body),
      signal: init.signal ?? undefined,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
      else if (value !== undefined) responseHeaders.append(name, value);
    }
    const status = response.statusCode;
    if (NULL_BODY_STATUSES.has(status) || method === "HEAD") {
      response.body.dump().catch(() => {}); // empty by definition: frees the connection
      return new Response(null, { status, statusText: response.statusText, headers: responseHeaders });
    }
    return new Response(bodyStream(response.body), {
      status,
      statusText: response.statusText,
      headers: responseHeaders,
    });
  };
}

async function requestBody(body: RequestInit["body"]): Promise<string | Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // Anything else a fetch body may be (Blob, URLSearchParams, a stream…): read it whole.
  return new Uint8Array(await new Response(body).arrayBuffer());
}
