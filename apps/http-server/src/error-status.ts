/**
 * The HTTP API's own table from core's error codes to HTTP statuses. Core
 * knows no transport; this is the one place where a ChatbotError gets an
 * HTTP status (see `errorReply` for the rest of the answer).
 */
import { type ChatbotError, ErrorCode } from "@chatgptchatbot/core";

/**
 * Core's error codes as HTTP statuses. Typed by `ErrorCode`, so a new code
 * does not compile until it has a status here. 499 is nginx's "client closed
 * request": nobody reads it, but the request log says what happened.
 */
export const HTTP_STATUSES: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.TooManySessions]: 429,
  [ErrorCode.SessionNotFound]: 404,
  [ErrorCode.Cooldown]: 429,
  [ErrorCode.Upstream]: 502, // refined by upstreamHttpStatus
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Aborted]: 499,
  [ErrorCode.Internal]: 500,
};

/** HTTP status for an upstream failure: 503 when unreachable or overloaded, 502 for a bad answer. */
export function upstreamHttpStatus(upstreamStatus: number | undefined): number {
  if (upstreamStatus === undefined) return 503; // no answer at all: network error or timeout
  if (upstreamStatus === 429 || upstreamStatus === 503) return 503;
  return 502;
}

/** The HTTP status of one error: the table's, refined for Upstream by what the upstream answered. */
export function httpStatus(error: ChatbotError): number {
  return error.code === ErrorCode.Upstream ? upstreamHttpStatus(error.upstreamStatus) : HTTP_STATUSES[error.code];
}
