import type { AskPart } from "@chatgptchatbot/core";

type TextPart = Extract<AskPart, { type: "text" | "reasoning" }>;

/**
 * The text and reasoning a chunk of the upstream's reply holds, adjacent
 * pieces of one kind joined, so that a backend yields a part per chunk, not
 * per event: a model streams a token an event, and every part costs its
 * consumers a few promise turns (the attempt runner, the pool, the
 * transport). Consumers see the same text, in fewer and larger pieces, as
 * soon as the chunk that carried it was read.
 */
export class PartBatch {
  #parts: TextPart[] = [];

  add(type: TextPart["type"], text: string): void {
    if (text === "") return;
    const last = this.#parts.at(-1);
    if (last?.type === type) this.#parts[this.#parts.length - 1] = { type, text: last.text + text };
    else this.#parts.push({ type, text });
  }

  /** The parts gathered since the last call, in order; the batch is empty afterwards. */
  take(): TextPart[] {
    const parts = this.#parts;
    this.#parts = [];
    return parts;
  }
}
