import { filterSegment } from "./reply-filter.js";
import { findSegmentEnd } from "./segment-boundary.js";

/**
 * Width (CJK characters count 2, see `textWidth`) from which the first segment
 * may end at a clause mark: about 10 Chinese characters or three English
 * words, so text-to-speech can start while the model is still writing.
 */
export const DEFAULT_FIRST_SEGMENT_MIN_LENGTH = 20;

/**
 * Width beyond which a segment is cut at its last clause mark or space: 80
 * Chinese characters or 160 Latin letters, longer than ordinary sentences, so
 * only run-on text (lists without full stops, long clauses) is ever cut.
 */
export const DEFAULT_MAX_SEGMENT_LENGTH = 160;

/** The smallest `maxLength` accepted: shorter limits would cut ordinary sentences into fragments. */
export const MIN_MAX_SEGMENT_LENGTH = 40;

export interface SegmenterOptions {
  /** Width from which the first segment may end at a clause mark; default {@link DEFAULT_FIRST_SEGMENT_MIN_LENGTH}. */
  firstMinLength?: number;
  /** Width beyond which a segment is cut; default {@link DEFAULT_MAX_SEGMENT_LENGTH}, at least {@link MIN_MAX_SEGMENT_LENGTH}. */
  maxLength?: number;
  /** Clean each segment for speech (`filterSegment`) and drop the ones with nothing left to say; default false. */
  filter?: boolean;
}

function checkLength(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Turns a reply's text deltas into speakable segments as soon as each one is
 * complete: `push` every delta, then `flush` once at the end. The segments are
 * the same however the text was split into deltas, and joined they are the
 * text up to the white space between them (which is trimmed). A `.` that ends
 * a delta is undecided until the next delta (3.14? Mr. Smith? the end?), so a
 * segment can come out one delta after its last character.
 *
 * One instance per reply; not reusable after `flush`.
 */
export class Segmenter {
  readonly #firstMinLength: number;
  readonly #maxLength: number;
  readonly #filter: boolean;
  #buffer = "";
  /** The character before the buffer (what borders its first segment); "" at the reply's start. */
  #before = "";
  #first = true;

  constructor({
    firstMinLength = DEFAULT_FIRST_SEGMENT_MIN_LENGTH,
    maxLength = DEFAULT_MAX_SEGMENT_LENGTH,
    filter = false,
  }: SegmenterOptions = {}) {
    this.#maxLength = checkLength("maxLength", maxLength, MIN_MAX_SEGMENT_LENGTH);
    this.#firstMinLength = checkLength("firstMinLength", firstMinLength, 1);
    this.#filter = filter;
  }

  /** Adds a delta; returns the segments it completed (often none). */
  push(delta: string): string[] {
    this.#buffer += delta;
    return this.#drain(false);
  }

  /** Ends the text; returns the segments still held. */
  flush(): string[] {
    return this.#drain(true);
  }

  #drain(final: boolean): string[] {
    const segments: string[] = [];
    const text = this.#buffer;
    // Walk an offset instead of slicing per segment: one long delta must not cost quadratic copying.
    let offset = 0;
    for (;;) {
      let start = offset;
      while (start < text.length && (text[start] ?? "").trim() === "") start++;
      if (start === text.length) {
        offset = start;
        break;
      }
      const end = findSegmentEnd({
        text,
        start,
        first: this.#first,
        final,
        firstMinLength: this.#firstMinLength,
        maxLength: this.#maxLength,
      });
      if (end === undefined) {
        offset = start;
        break;
      }
      offset = end;
      const raw = text.slice(start, end).trimEnd();
      const segment = this.#filter
        ? filterSegment(raw, {
            before: start > 0 ? characterBefore(text, start) : this.#before,
            after: text[end] ?? "",
          })
        : raw;
      if (segment !== "") {
        segments.push(segment);
        this.#first = false;
      }
    }
    if (offset > 0) this.#before = characterBefore(text, offset);
    this.#buffer = text.slice(offset);
    return segments;
  }
}

/** The character (a whole surrogate pair when there is one) that ends at `index`. */
function characterBefore(text: string, index: number): string {
  const low = text.charCodeAt(index - 1);
  const high = text.charCodeAt(index - 2);
  const paired = low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff;
  return text.slice(paired ? index - 2 : index - 1, index);
}

/** The segments of a whole text (a {@link Segmenter} given it as one delta). */
export function segmentText(text: string, options: SegmenterOptions = {}): string[] {
  const segmenter = new Segmenter(options);
  return [...segmenter.push(text), ...segmenter.flush()];
}
