import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { HTTPException } from "hono/http-exception";
import { httpStatus } from "./error-status.js";

export const TEXT_PLAIN = "text/plain; charset=UTF-8";

/** How one failure is answered: status, text body and headers. */
export interface ErrorReply {
  readonly status: number;
  /** The text/plain body; null for a client that went away. */
  readonly body: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The error as the domain sees it (HTTP-only errors have none). */
  readonly error: ChatbotError | undefined;
}

/**
 * The one translation from a failure to an HTTP answer. Domain errors go
 * through this app's table ({@link httpStatus}: 400, 404, 429, 499, 502,
 * 503, 500) with `Retry-After` when a wait applies; anything unforeseen is a
 * 500 with a generic message. Only HTTP's own errors (413 from the body limit)
 * arrive as Hono `HTTPException`s and keep their status.
 */
export function errorReply(thrown: unknown): ErrorReply {
  if (thrown instanceof HTTPException) {
    return { status: thrown.status, body: thrown.message, headers: { "content-type": TEXT_PLAIN }, error: undefined };
  }
  const error = ChatbotError.from(thrown);
  const status = httpStatus(error);
  if (error.code === ErrorCode.Aborted) return { status, body: null, headers: {}, error }; // nobody is listening
  const headers: Record<string, string> = { "content-type": TEXT_PLAIN };
  const wait = error.retryAfterSeconds;
  if (wait !== undefined) headers["retry-after"] = String(wait);
  return { status, body: error.message, headers, error };
}
