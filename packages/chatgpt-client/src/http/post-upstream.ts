import { type Dispatcher, request } from "undici";

/**
 * The one way both backends send a request: a JSON body POSTed with the
 * credential as a bearer token, on the backend's dispatcher, with no undici
 * timers (nor the dispatcher's 300 s defaults) because `signal` carries the
 * attempt's deadline. Resolves with the open response whatever its status:
 * the backend decides what is an error answer.
 */
export function postUpstream({
  dispatcher,
  url,
  body,
  credential,
  accept,
  userAgent,
  signal,
}: {
  dispatcher: Dispatcher;
  url: string;
  body: string;
  credential: string;
  /** What the backend reads: "text/event-stream", or also "application/json" for a whole reply. */
  accept: string;
  userAgent?: string;
  signal: AbortSignal;
}): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${credential}`,
    "content-type": "application/json",
    accept,
  };
  if (userAgent !== undefined) headers["user-agent"] = userAgent;
  return request(url, { dispatcher, method: "POST", headers, body, signal, headersTimeout: 0, bodyTimeout: 0 });
}
