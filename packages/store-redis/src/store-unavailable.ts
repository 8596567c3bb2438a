import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";

/** What a client is told when Redis cannot be reached; the cause stays in the logs. */
export const STORE_UNAVAILABLE_MESSAGE = "session store unavailable";

/**
 * Turns a failed Redis call into core's Unavailable "session store
 * unavailable", the error the pool passes on as it is (gRPC UNAVAILABLE,
 * HTTP 503). A ChatbotError passes through unchanged.
 */
export function storeUnavailable(cause: unknown): ChatbotError {
  if (cause instanceof ChatbotError) return cause;
  return new ChatbotError({ code: ErrorCode.Unavailable, message: STORE_UNAVAILABLE_MESSAGE, cause });
}

/** Whether an error is the one {@link storeUnavailable} builds. */
export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof ChatbotError && error.code === ErrorCode.Unavailable && error.message === STORE_UNAVAILABLE_MESSAGE
  );
}
