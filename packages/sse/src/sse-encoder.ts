/**
 * Encoding server-sent events, the framing both fake upstreams stream their
 * replies in (https://html.spec.whatwg.org/multipage/server-sent-events.html);
 * sse-decoder.ts reads them back.
 */

/** The data payload OpenAI and ChatGPT web send as the last event of a stream. */
export const SSE_DONE = "[DONE]";

/**
 * Encodes one event carrying `data`: a string is sent as is, anything else as JSON.
 * Multi-line strings become several `data:` lines, which the decoder joins back with "\n".
 */
export function formatSSE(data: unknown): string {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return `${text
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}
