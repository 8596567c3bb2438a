import { ChatbotError } from "@chatgptchatbot/core";

/**
 * The failure of a reply stream that ended cleanly but before its terminator
 * (`[DONE]`, a `finish_reason`, a finished message): a proxy or a crashed
 * upstream cut it short. Both backends report it the same way, as an upstream
 * failure, so the pool stores nothing of the half reply.
 */
export const REPLY_ENDED_EARLY = "the upstream reply ended early";

/** `status`: the HTTP status the reply came with (2xx): the upstream answered, badly, so HTTP clients see 502. */
export function replyEndedEarly(status: number): ChatbotError {
  return ChatbotError.upstream(REPLY_ENDED_EARLY, { status });
}
