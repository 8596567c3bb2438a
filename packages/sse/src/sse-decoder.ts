/**
 * The one `text/event-stream` decoder of the workspace
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 */

/** One server-sent event. */
export interface ServerSentEvent {
  /** The `event:` field, or undefined for the default ("message"). */
  readonly event: string | undefined;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
}

/**
 * An incremental `text/event-stream` decoder (the WHATWG rules): lines end
 * in CRLF, LF or CR, even split across chunks; `data:` lines accumulate;
 * a blank line dispatches; `:` comments, `id:` and `retry:` are ignored; one
 * space after the colon is dropped; a leading BOM is skipped.
 */
export class SSEDecoder {
  readonly #decoder = new TextDecoder("utf-8");
  #buffer = "";
  /** The event's `data:` lines so far: one string for the first (the usual case), an array once there are more. */
  #data: string | string[] | undefined;
  #event: string | undefined;
  #started = false;

  /** Feeds bytes (or text); returns the events they complete. */
  push(chunk: Uint8Array | string): ServerSentEvent[] {
    let text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (!this.#started && text !== "") {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#buffer += text;
    return this.#drain(false);
  }

  /**
   * Ends the stream: a last line without its line break counts, and an event
   * without its blank line is dispatched too (lenient, for servers that end
   * with `data: [DONE]` and close).
   */
  end(): ServerSentEvent[] {
    this.#buffer += this.#decoder.decode();
    const events = this.#drain(true);
    if (this.#buffer !== "") this.#line(this.#buffer, events);
    this.#buffer = "";
    this.#dispatch(events);
    return events;
  }

  #drain(final: boolean): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    const buffer = this.#buffer;
    // Line breaks are found with indexOf (native, vectorized), not a loop over characters: a reply's
    // event stream passes through here whole. CR alone is rare, so its position is looked up once and
    // again only after it has been passed.
    let start = 0;
    let lf = buffer.indexOf("\n");
    let cr = buffer.indexOf("\r");
    for (;;) {
      if (lf === -1 && cr === -1) break;
      let next: number;
      let end: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        // A CR at the end of the buffer may be the first half of a CRLF: wait for the next chunk.
        if (cr === buffer.length - 1 && !final) break;
        next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      }
      this.#line(buffer.slice(start, end), events);
      start = next;
      if (lf !== -1 && lf < start) lf = buffer.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = buffer.indexOf("\r", start);
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
    return events;
  }

  #line(line: string, events: ServerSentEvent[]): void {
    if (line === "") {
      this.#dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" comment
    // Nearly every line of a reply is "data: …": take its value without slicing out the field name first.
    if (line.startsWith("data:")) {
      this.#addData(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.#addData(value);
    else if (field === "event") this.#event = value;
  }

  #addData(value: string): void {
    const data = this.#data;
    if (data === undefined) this.#data = value;
    else if (typeof data === "string") this.#data = [data, value];
    else data.push(value);
  }

  #dispatch(events: ServerSentEvent[]): void {
    const data = this.#data;
    if (data !== undefined)
      events.push({ event: this.#event, data: typeof data === "string" ? data : data.join("\n") });
    this.#data = undefined;
    this.#event = undefined;
  }
}

/** The events of a byte stream, as they complete. */
export async function* readServerSentEvents(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const decoder = new SSEDecoder();
  for await (const chunk of chunks) yield* decoder.push(chunk);
  yield* decoder.end();
}

/**
 * The events of a byte stream, a chunk's worth at a time: each array holds
 * the events one chunk completed (never empty). For a reader that handles a
 * chunk's events at once: one promise turn per chunk instead of one per
 * event (a model streams a token an event, and a chunk often holds dozens).
 */
export async function* readServerSentEventBatches(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent[], void, undefined> {
  const decoder = new SSEDecoder();
  for await (const chunk of chunks) {
    const events = decoder.push(chunk);
    if (events.length > 0) yield events;
  }
  const last = decoder.end();
  if (last.length > 0) yield last;
}

/**
 * The complete events of a whole text, in order. An event without its closing
 * blank line (a cut stream) is not complete and is left out, as a browser
 * would; {@link readServerSentEvents} is the lenient reader for live replies.
 */
export function parseServerSentEvents(text: string): ServerSentEvent[] {
  return new SSEDecoder().push(text);
}
