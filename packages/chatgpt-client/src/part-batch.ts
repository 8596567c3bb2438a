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
  /** The run being joined: its pieces are concatenated here, its part made once, at `take` or at a change of kind. */
  #type: TextPart["type"] | undefined;
  #text = "";

  add(type: TextPart["type"], text: string): void {
    if (text === "") return;
    if (type === this.#type) {
      this.#text += text;
      return;
    }
    this.#close();
    this.#type = type;
    this.#text = text;
  }

  /** The parts gathered since the last call, in order; the batch is empty afterwards. */
  take(): TextPart[] {
    this.#close();
    const parts = this.#parts;
    this.#parts = [];
    return parts;
  }

  #close(): void {
    if (this.#type === undefined) return;
    this.#parts.push({ type: this.#type, text: this.#text });
    this.#type = undefined;
    this.#text = "";
  }
}
