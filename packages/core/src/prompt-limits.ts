import { ChatbotError } from "./errors.js";

/**
 * Size limits of the texts a client sends to be asked upstream. A live
 * stream's comments are typed by strangers: the limit is checked before any
 * work is done for a prompt (before it is queued, tokenized or sent), and it
 * keeps the cost of counting a prompt's tokens small (see BENCHMARKS.md).
 */

/** Default largest prompt of one chat turn, in characters: a comment, or a few. */
export const DEFAULT_MAX_PROMPT_CHARS = 4_000;
/** Default largest initial (system) prompt, in characters: a persona with its rules. */
export const DEFAULT_MAX_INITIAL_PROMPT_CHARS = 10_000;

/**
 * Throws InvalidArgument when `text` has more than `maxChars` characters
 * (Unicode code points: an emoji counts one). Never quotes the text.
 */
export function checkPromptLength({ field, text, maxChars }: { field: string; text: string; maxChars: number }): void {
  // A string's UTF-16 length bounds its code points from above (one or two units each).
  if (text.length <= maxChars) return;
  if (text.length <= 2 * maxChars && codePoints(text) <= maxChars) return;
  throw ChatbotError.invalidArgument(`${field} is too long: the limit is ${maxChars} characters`);
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
