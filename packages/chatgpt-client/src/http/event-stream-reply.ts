import type { Readable } from "node:stream";
import { readServerSentEventBatches, type ServerSentEvent } from "@chatgptchatbot/sse";
import { drain } from "./drain-body.js";

/** The event that ends a reply in both upstream protocols. */
const DONE = "[DONE]";

/**
 * An upstream reply's event stream, a network chunk's events at a time (see
 * `readServerSentEventBatches`), up to `data: [DONE]`, which it leaves out.
 * It owns the connection, for both backends: read up to `[DONE]`, the rest of
 * the body is drained so the keep-alive connection goes back to the pool;
 * left before (the reader breaks out or throws), the connection is closed,
 * since the rest of the reply will never be read. `done` tells whether
 * `[DONE]` came.
 */
export class EventStreamReply implements AsyncIterable<ServerSentEvent[]> {
  readonly #body: Readable;
  #done = false;

  constructor(body: Readable) {
    this.#body = body;
  }

  /** Whether the reply reached `data: [DONE]`. */
  get done(): boolean {
    return this.#done;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ServerSentEvent[], void, undefined> {
    let ended = false;
    try {
      for await (const events of readServerSentEventBatches(this.#body.iterator({ destroyOnReturn: false }))) {
        const end = events.findIndex((event) => event.data === DONE);
        if (end === -1) {
          yield events;
          continue;
        }
        if (end > 0) yield events.slice(0, end);
        // Only once the reader has taken the events before it: one that fails on them closes the connection.
        this.#done = true;
        return;
      }
      ended = true;
    } finally {
      if (this.#done) drain(this.#body);
      else if (!ended) this.#body.on("error", () => {}).destroy();
    }
  }
}
