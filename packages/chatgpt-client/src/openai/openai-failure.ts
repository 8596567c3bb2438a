import { ChatbotError } from "@chatgptchatbot/core";
import type { APIError } from "openai";
import { parseRetryAfter } from "../http/retry.js";
import { safeReason } from "../safe-error.js";
import type { VendorErrors } from "../upstream-failure.js";
import type { OpenAISdk } from "./openai-sdk.js";

/**
 * What the `openai` SDK's own errors mean, for the attempt runner (which
 * reads the caller's abort, the deadline, ChatbotErrors and transport
 * failures first, see upstream-failure.ts):
 *
 * - its own timer (`APIConnectionTimeoutError`) has the deadline's length
 *   and starts later: a backstop, reported as the deadline's timeout, never retried;
 * - `APIUserAbortError` (the attempt's signal, not the caller's): Aborted;
 * - `APIConnectionError`: Upstream "could not reach the upstream", retried;
 * - `APIError` with a status: Upstream with the status, Retry-After and the
 *   upstream's own message (masked); 429 and 5xx are retried;
 * - a `SyntaxError` (a body that is not JSON): a malformed reply;
 * - any other `OpenAIError`: Upstream with its (masked) message.
 *
 * `sdk` is the loaded SDK: its error classes.
 */
export function openAIErrors(sdk: OpenAISdk, credential: string): VendorErrors {
  return {
    isTimeout: (error) => error instanceof sdk.APIConnectionTimeoutError,
    failure(error, cause) {
      if (error instanceof sdk.APIUserAbortError) return ChatbotError.aborted(undefined, cause);
      if (error instanceof sdk.APIConnectionError)
        return ChatbotError.upstream("could not reach the upstream", { cause });
      if (error instanceof sdk.APIError) {
        const status = error.status;
        const reason = safeReason(upstreamMessage(error), credential);
        if (status === undefined) return ChatbotError.upstream(`the upstream reported an error: ${reason}`, { cause });
        return ChatbotError.upstream(`the upstream answered ${status}: ${reason}`, {
          status,
          retryAfterMs: parseRetryAfter(error.headers),
          cause,
        });
      }
      if (error instanceof SyntaxError)
        return ChatbotError.upstream("the upstream sent a malformed reply (invalid JSON)", { cause });
      if (error instanceof sdk.OpenAIError)
        return ChatbotError.upstream(safeReason(error.message, credential), { cause });
      return undefined;
    },
    retry(error) {
      if (error instanceof sdk.APIUserAbortError) return { retry: false };
      if (error instanceof sdk.APIError && error.status !== undefined) {
        if (error.status === 429 || error.status >= 500)
          return { retry: true, retryAfterMs: parseRetryAfter(error.headers) };
        return { retry: false };
      }
      if (error instanceof sdk.APIConnectionTimeoutError) return { retry: false };
      return { retry: error instanceof sdk.APIConnectionError };
    },
  };
}

/** The upstream's own words: `error.message` of its JSON body, else the SDK's message without the status prefix. */
function upstreamMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === "string" && body.message !== "") return body.message;
  const text = error.message.replace(/^\d{3}\s+/, "");
  return text === "" ? "no reason given" : text;
}
