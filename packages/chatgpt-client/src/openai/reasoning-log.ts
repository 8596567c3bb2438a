/** How much of a reply's reasoning a debug log line keeps: enough to see what the model thought, bounded. */
export const MAX_LOGGED_REASONING_CHARS = 2_000;

/**
 * Collects a reply's reasoning for one debug log line: its length and its
 * first {@link MAX_LOGGED_REASONING_CHARS} characters (UTF-16 units; a
 * thinking model may reason for many kilobytes, which must not grow a log
 * line or the memory held per reply without bound).
 */
export class ReasoningLog {
  #head = "";
  #chars = 0;

  /** The reasoning's whole length so far, in UTF-16 units. */
  get chars(): number {
    return this.#chars;
  }

  add(text: string): void {
    this.#chars += text.length;
    const room = MAX_LOGGED_REASONING_CHARS - this.#head.length;
    if (room > 0) this.#head += text.slice(0, room);
  }

  /** The log fields: `reasoning` (the head, "…" marking a cut) and `reasoningChars`. */
  summary(): { reasoning: string; reasoningChars: number } {
    const cut = this.#chars > this.#head.length;
    return { reasoning: cut ? `${this.#head}…` : this.#head, reasoningChars: this.#chars };
  }
}
