import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import type { APIError } from "openai";
import { parseRetryAfter, type RetryDecision } from "../http/retry.js";
import { safeCause, safeReason } from "../safe-error.js";
import { transportFailure } from "../http/transport-failure.js";
import type { OpenAISdk } from "./openai-sdk.js";

export interface FailureContext {
  readonly credential: string;
  /** The caller's signal: aborted means the caller gave up. */
  readonly signal: AbortSignal;
  /** The request's attempt deadline: whether the attempt timed out, and the reason to give. */
  readonly deadline: { readonly timedOut: boolean; readonly message: string };
}

/**
 * Turns whatever the `openai` SDK (or the transport under it) threw into a
 * ChatbotError: Aborted when the caller gave up; Upstream "the upstream
 * timed out after N s" when the attempt's deadline cut it (the SDK reports
 * that abort as a user abort, so the deadline is asked, not the error);
 * Upstream with the HTTP status, Retry-After and the upstream's own message
 * otherwise. The credential never appears in the message or the kept cause.
 * `sdk` is the loaded SDK (its error classes), undefined when the failure came
 * before it was loaded.
 */
export function openAIFailure(
  error: unknown,
  { credential, signal, deadline }: FailureContext,
  sdk: OpenAISdk | undefined,
): ChatbotError {
  if (signal.aborted) {
    return error instanceof ChatbotError && error.code === ErrorCode.Aborted ? error : ChatbotError.aborted(undefined, safeCause(error, credential));
  }
  const cause = safeCause(error, credential);
  // The SDK's own timer has the same length and starts later: a backstop, reported the same way.
  if (deadline.timedOut || (sdk !== undefined && error instanceof sdk.APIConnectionTimeoutError)) {
    return ChatbotError.upstream(deadline.message, { cause });
  }
  if (sdk !== undefined && error instanceof sdk.APIUserAbortError) return ChatbotError.aborted(undefined, cause);
  if (error instanceof ChatbotError) return error;
  const transport = transportFailure(error);
  if (transport !== undefined) return ChatbotError.upstream(transport.reason, { cause });
  if (sdk !== undefined && error instanceof sdk.APIConnectionError) {
    return ChatbotError.upstream("could not reach the upstream", { cause });
  }
  if (sdk !== undefined && error instanceof sdk.APIError) {
    const status = error.status;
    const reason = safeReason(upstreamMessage(error), credential);
    if (status === undefined) return ChatbotError.upstream(`the upstream reported an error: ${reason}`, { cause });
    return ChatbotError.upstream(`the upstream answered ${status}: ${reason}`, {
      status,
      retryAfterMs: parseRetryAfter(error.headers),
      cause,
    });
  }
  if (error instanceof SyntaxError) {
    return ChatbotError.upstream("the upstream sent a malformed reply (invalid JSON)", { cause });
  }
  if (sdk !== undefined && error instanceof sdk.OpenAIError) {
    return ChatbotError.upstream(safeReason(error.message, credential), { cause });
  }
  // Not foreseen: a bug rather than an upstream failure; reported as Internal, cause kept for logs.
  return ChatbotError.from(cause);
}

/**
 * Whether another attempt may succeed: 429 and 5xx (with their Retry-After), and refused/reset
 * connections. A timed-out attempt is not retried (the caller checks its deadline first).
 */
export function decideOpenAIRetry(error: unknown, sdk: OpenAISdk): RetryDecision {
  if (error instanceof sdk.APIUserAbortError) return { retry: false };
  if (error instanceof sdk.APIError && error.status !== undefined) {
    if (error.status === 429 || error.status >= 500) return { retry: true, retryAfterMs: parseRetryAfter(error.headers) };
    return { retry: false };
  }
  const transport = transportFailure(error);
  if (transport !== undefined) return { retry: transport.retryable };
  if (error instanceof sdk.APIConnectionTimeoutError) return { retry: false };
  return { retry: error instanceof sdk.APIConnectionError };
}

/** The upstream's own words: `error.message` of its JSON body, else the SDK's message without the status prefix. */
function upstreamMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === "string" && body.message !== "") return body.message;
  const text = error.message.replace(/^\d{3}\s+/, "");
  return text === "" ? "no reason given" : text;
}
