/**
 * Reasoning models served by Ollama, vLLM and others (DeepSeek-R1, Qwen3,
 * QwQ with thinking on) may put their reasoning at the start of the content,
 * as `<think>…</think>`, instead of in `reasoning_content` deltas. This
 * splits it off incrementally: the tags may arrive cut anywhere across
 * deltas, so text that could still be the start of a tag is held back until
 * the next delta tells.
 */

/** One piece of a reply: reasoning (never spoken, never stored) or the reply's text. */
export interface ThinkPart {
  readonly type: "reasoning" | "text";
  readonly text: string;
}

const OPEN = "<think>";
const CLOSE = "</think>";

/** The length of the longest suffix of `text` that is a proper prefix of `tag` (text that may become the tag). */
function partialTagLength(text: string, tag: string): number {
  for (let length = Math.min(tag.length - 1, text.length); length > 0; length--) {
    if (tag.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}

function isBlank(text: string): boolean {
  return text.trim() === "";
}

/**
 * Splits a streamed reply into reasoning and text. Only a `<think>` at the
 * very start of the content (after white space) opens reasoning; it lasts
 * until `</think>` (or the end: a reply cut off while thinking has no text),
 * and the white space after `</think>` is dropped. Anywhere else `<think>` is
 * ordinary text. One instance per reply.
 */
export class ThinkTagSplitter {
  #state: "start" | "reasoning" | "after" | "text" = "start";
  #pending = "";

  /**
   * Whether the reasoning is over (or never began): from now on every delta
   * is text as it is, and `push(delta)` would return it alone. A reader may
   * then take the delta itself, without the array and part `push` makes for
   * it (a model streams a token a delta: that was a few objects a token).
   */
  get passesThrough(): boolean {
    return this.#state === "text";
  }

  /** Adds a content delta; returns the parts it completed (at most one of each type, in order). */
  push(delta: string): ThinkPart[] {
    this.#pending += delta;
    return this.#drain(false);
  }

  /** Ends the reply; returns what was held back. */
  flush(): ThinkPart[] {
    return this.#drain(true);
  }

  #drain(final: boolean): ThinkPart[] {
    const parts: ThinkPart[] = [];
    const emit = (type: ThinkPart["type"], text: string): void => {
      if (text !== "") parts.push({ type, text });
    };
    if (this.#state === "start") {
      const head = this.#pending.trimStart();
      if (head.startsWith(OPEN)) {
        this.#state = "reasoning";
        this.#pending = head.slice(OPEN.length);
      } else if (!final && (head === "" || OPEN.startsWith(head))) {
        return parts; // still could be "<think>"
      } else {
        this.#state = "text";
      }
    }
    if (this.#state === "reasoning") {
      const close = this.#pending.indexOf(CLOSE);
      if (close === -1) {
        const keep = final ? 0 : partialTagLength(this.#pending, CLOSE);
        emit("reasoning", this.#pending.slice(0, this.#pending.length - keep));
        this.#pending = this.#pending.slice(this.#pending.length - keep);
        return parts;
      }
      emit("reasoning", this.#pending.slice(0, close));
      this.#pending = this.#pending.slice(close + CLOSE.length);
      this.#state = "after";
    }
    if (this.#state === "after") {
      if (isBlank(this.#pending)) {
        this.#pending = "";
        return parts;
      }
      this.#pending = this.#pending.trimStart();
      this.#state = "text";
    }
    emit("text", this.#pending);
    this.#pending = "";
    return parts;
  }
}
