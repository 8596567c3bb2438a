import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

/**
 * Honest usage numbers for the fakes: real token counts with the o200k_base
 * encoding (gpt-4o and later models) from gpt-tokenizer, the same package and
 * version core counts its history budget with. One token per 4 characters
 * would undercount Chinese, for instance, by more than half.
 */

/** Special tokens (`<|endoftext|>`) in a message are text, as the real API counts them: never throw. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** The tokens of a text: what a completion's `completion_tokens` counts. */
export function countTextTokens(text: string): number {
  return countTokens(text, AS_TEXT);
}

/** One chat message as the fakes read it. */
export interface TokenizedMessage {
  readonly role: string;
  readonly content: string;
  readonly name?: string | undefined;
}

/** Tokens every message costs beyond its role and content (`<|im_start|>`, separators, `<|im_end|>`). */
export const TOKENS_PER_MESSAGE = 3;
/** Tokens a message's `name` costs beyond its own tokens. */
export const TOKENS_PER_NAME = 1;
/** Tokens that prime the reply (`<|im_start|>assistant<|im_sep|>`). */
export const REPLY_PRIMING_TOKENS = 3;

/**
 * A chat completion's `prompt_tokens`, by OpenAI's published rule for its
 * chat models (the "How to count tokens with tiktoken" cookbook):
 *
 *     3 + Σ over messages (3 + tokens(role) + tokens(content) [+ tokens(name) + 1])
 *
 * Close to what the API reports for plain text messages; not exact for tools,
 * images or other content parts (the fakes keep only the text).
 */
export function countPromptTokens(messages: readonly TokenizedMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const { role, content, name } of messages) {
    total += TOKENS_PER_MESSAGE + countTokens(role, AS_TEXT) + countTokens(content, AS_TEXT);
    if (name !== undefined && name !== "") total += TOKENS_PER_NAME + countTokens(name, AS_TEXT);
  }
  return total;
}
