import type { IncomingHttpHeaders } from "node:http";
import { type Dispatcher, request } from "undici";
import { errorAnswer } from "./error-answer.js";

/**
 * How both backends send a request and take its answer: a JSON body POSTed
 * with the credential as a bearer token, on the backend's dispatcher, with
 * no undici timers (nor the dispatcher's 300 s defaults) because `signal`
 * carries the attempt's deadline. Resolves with the open reply; an error
 * answer (a non-2xx status, or a 2xx that `isReply` refuses) becomes the
 * Upstream error its body explains ({@link errorAnswer}).
 */
export async function postUpstream({
  dispatcher,
  url,
  body,
  credential,
  accept,
  userAgent,
  signal,
  isReply = () => true,
  reasonOf,
}: {
  dispatcher: Dispatcher;
  url: string;
  body: string | Uint8Array;
  credential: string;
  /** What the backend reads: "text/event-stream", or also "application/json" for a whole reply. */
  accept: string;
  userAgent?: string;
  signal: AbortSignal;
  /** Whether a 2xx answer with these headers is a reply (default: every 2xx is). */
  isReply?: (headers: IncomingHttpHeaders) => boolean;
  /** The reason an error body gives, in the backend's protocol. */
  reasonOf: (body: string) => string;
}): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${credential}`,
    "content-type": "application/json",
    accept,
  };
  if (userAgent !== undefined) headers["user-agent"] = userAgent;
  const response = await request(url, {
    dispatcher,
    method: "POST",
    headers,
    body,
    signal,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  if (response.statusCode >= 200 && response.statusCode < 300 && isReply(response.headers)) return response;
  throw await errorAnswer(response, { credential, reasonOf });
}
