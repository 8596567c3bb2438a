import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import type { RetryDecision } from "./http/retry.js";
import { transportFailure } from "./http/transport-failure.js";
import { safeCause } from "./safe-error.js";

export interface FailureContext {
  readonly credential: string;
  /** The caller's signal: aborted means the caller gave up. */
  readonly signal: AbortSignal;
  /** The request's attempt deadline: whether the attempt timed out, and the reason to give. */
  readonly deadline: { readonly timedOut: boolean; readonly message: string };
}

/**
 * Turns whatever an attempt (or the reading of its reply) threw into the
 * ChatbotError the caller sees: Aborted when the caller gave up; Upstream
 * "the upstream timed out after N s" when the attempt's deadline cut it (a
 * library may report that abort as a user abort, so the deadline is asked,
 * not the error); a ChatbotError as it is (the backends throw them for error
 * answers); Upstream with a safe reason for a transport failure; else
 * Internal (a bug, not an upstream failure; the cause is kept for logs). The credential never appears in the message or the kept cause.
 */
export function upstreamFailure(error: unknown, { credential, signal, deadline }: FailureContext): ChatbotError {
  if (signal.aborted) {
    if (error instanceof ChatbotError && error.code === ErrorCode.Aborted) return error;
    return ChatbotError.aborted(undefined, safeCause(error, credential));
  }
  const cause = safeCause(error, credential);
  if (deadline.timedOut) return ChatbotError.upstream(deadline.message, { cause });
  if (error instanceof ChatbotError) return error;
  const transport = transportFailure(error);
  if (transport !== undefined) return ChatbotError.upstream(transport.reason, { cause });
  return ChatbotError.from(cause);
}

/**
 * Whether another attempt may succeed: an upstream answer of 429 or 5xx
 * (a ChatbotError carrying its status, with its Retry-After), a refused or
 * reset connection. A timed-out
 * attempt is not retried (the runner checks its deadline first).
 */
export function decideUpstreamRetry(error: unknown): RetryDecision {
  if (error instanceof ChatbotError) {
    const status = error.upstreamStatus;
    if (status !== undefined && (status === 429 || status >= 500))
      return { retry: true, retryAfterMs: error.retryAfterMs };
    return { retry: false };
  }
  const transport = transportFailure(error);
  if (transport !== undefined) return { retry: transport.retryable };
  return { retry: false };
}
