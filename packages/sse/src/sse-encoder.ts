/**
 * Encoding server-sent events
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html): the
 * framing both fake upstreams stream their replies in, and the HTTP API's
 * streamed replies; sse-decoder.ts reads them back.
 */

/** The data payload OpenAI and ChatGPT web send as the last event of a stream. */
export const SSE_DONE = "[DONE]";

/**
 * Encodes one event carrying `data`: a string is sent as is, anything else as
 * JSON; with `event`, under that name (`event: …` first). A string of several
 * lines becomes one `data:` line per line (CRLF, LF and CR all end a line in
 * SSE, so each of them does here too), which a decoder joins back with "\n".
 */
export function formatSSE(data: unknown, { event }: { readonly event?: string } = {}): string {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  let encoded = event === undefined ? "" : `event: ${event}\n`;
  for (const line of text.split(/\r\n|\r|\n/)) encoded += `data: ${line}\n`;
  return `${encoded}\n`;
}
