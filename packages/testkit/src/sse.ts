/**
 * Server-sent events, the framing both fake upstreams stream their replies in
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 */

/** The data payload OpenAI and ChatGPT web send as the last event of a stream. */
export const SSE_DONE = "[DONE]";

/**
 * Encodes one event carrying `data`: a string is sent as is, anything else as JSON.
 * Multi-line strings become several `data:` lines, which a parser joins back with "\n".
 */
export function formatSSE(data: unknown): string {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return `${text
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

/**
 * Returns the data payloads of a complete event stream, in order (`[DONE]` included).
 * Follows the spec: `data:` lines of one event are joined with "\n", comments and other
 * fields are ignored, events without data are skipped, and a last event that is not
 * terminated by a blank line (a cut stream) is dropped, as a browser would.
 */
export function parseSSE(text: string): string[] {
  const parser = new SSEParser();
  return parser.push(text);
}

/**
 * Incremental parser: feed it text as it arrives, get the payloads of the events that
 * completed. Events may be split anywhere, even inside a line or a CRLF pair.
 */
export class SSEParser {
  #buffer = "";
  #data: string[] = [];
  #hasData = false;

  push(text: string): string[] {
    this.#buffer += text;
    const payloads: string[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      // A lone "\r" at the end may be the first half of "\r\n": wait for more input.
      if (match[0] === "\r" && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const payload = this.#line(line);
      if (payload !== undefined) payloads.push(payload);
    }
    return payloads;
  }

  #line(line: string): string | undefined {
    if (line === "") {
      if (!this.#hasData) return undefined;
      const payload = this.#data.join("\n");
      this.#data = [];
      this.#hasData = false;
      return payload;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== "data") return undefined;
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    this.#data.push(value);
    this.#hasData = true;
    return undefined;
  }
}

/**
 * Yields the data payloads of an event stream as its events complete, e.g.
 * `for await (const data of readSSE(response.body!))`. Rejects if the stream errors
 * (a cut connection).
 */
export async function* readSSE(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  for await (const bytes of body) {
    yield* parser.push(decoder.decode(bytes, { stream: true }));
  }
  yield* parser.push(decoder.decode());
}
