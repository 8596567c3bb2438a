/**
 * Token counting for the history budget. Uses gpt-tokenizer, which ships its
 * BPE encodings inside the package (nothing is downloaded at run time: the
 * old service failed behind firewalls fetching them). Encodings are loaded on
 * first use, so an idle server does not carry them.
 *
 * Every text counted here comes from outside (a viewer's prompt, a client's
 * initial prompt, the upstream's reply), so counting is bounded:
 *
 * - gpt-tokenizer's byte-pair merge is quadratic in the length of one
 *   pre-token, and a run without spaces (`xxxx…`, base64, CJK) is one
 *   pre-token: 100 kB of `x` took seconds. The text is therefore counted in
 *   pieces of at most {@link COUNT_PIECE_CHARS} characters, cut just before a
 *   space where there is one (where the encoder's own pre-tokenizer splits too,
 *   so ordinary text counts exactly), else anywhere outside a surrogate pair
 *   (a long run then counts a token or so more per cut: an overcount, the safe
 *   side of a budget).
 * - Only the first {@link EXACT_COUNT_CHARS} characters are encoded; the rest
 *   counts as its UTF-8 byte length, an upper bound of its tokens (every byte
 *   is at most one token). Prompts are limited to this bound by default;
 *   beyond it are long upstream replies, overcounted (the safe side).
 * - Special tokens (`<|endoftext|>`) are ordinary text here, as the upstream
 *   sees them in a message's content: anyone can type them.
 */

/** Counts the tokens of a text. */
export type TokenCounter = (text: string) => number;

export type EncodingName = "o200k_base" | "cl100k_base";

/** Longest piece handed to the encoder at once (UTF-16 units): bounds the quadratic merge. */
export const COUNT_PIECE_CHARS = 128;
/**
 * Characters (UTF-16 units) counted exactly; the rest is bounded by its UTF-8
 * length. Hostile text costs up to ~3.5 µs a character to encode (random CJK;
 * see BENCHMARKS.md), so this keeps one count near 35 ms of CPU; it equals the
 * default initial prompt limit, so accepted prompts are counted exactly.
 */
export const EXACT_COUNT_CHARS = 10_000;
/**
 * Entries of the encoder's cache of merged pieces (the library's default is
 * 100,000, up to ~100 MB of hostile pieces kept for ever); the cache only
 * helps words repeated outside the vocabulary, which a few thousand cover.
 */
const MERGE_CACHE_ENTRIES = 4_096;

/** Count special tokens as the text they are, never throw on them. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** The encoding for a model name; any unknown model gets o200k_base. */
export function encodingForModel(model: string | undefined): EncodingName {
  const name = (model ?? "").toLowerCase();
  if (/^(gpt-4(?!o|\.[1-9])|gpt-3\.5|text-embedding-(ada|3))/.test(name)) return "cl100k_base";
  return "o200k_base";
}

interface Encoder {
  countTokens(text: string, options: typeof AS_TEXT): number;
  setMergeCacheSize(size: number): void;
}

const loaded = new Map<EncodingName, Promise<TokenCounter>>();

/** Loads (once) and returns the counter for a model. */
export function loadTokenCounter(model: string | undefined): Promise<TokenCounter> {
  const encoding = encodingForModel(model);
  let counter = loaded.get(encoding);
  if (counter === undefined) {
    const module: Promise<Encoder> =
      encoding === "cl100k_base"
        ? import("gpt-tokenizer/encoding/cl100k_base")
        : import("gpt-tokenizer/encoding/o200k_base");
    counter = module.then((encoder) => {
      encoder.setMergeCacheSize(MERGE_CACHE_ENTRIES);
      return boundedCounter((piece) => encoder.countTokens(piece, AS_TEXT));
    });
    counter.catch(() => loaded.delete(encoding));
    loaded.set(encoding, counter);
  }
  return counter;
}

/**
 * Wraps an encoder's count of one short piece into a counter for any text,
 * in time linear in the text's length (see the module comment).
 */
export function boundedCounter(countPiece: (piece: string) => number): TokenCounter {
  return (text) => {
    const exact = text.length > EXACT_COUNT_CHARS ? text.slice(0, cutBefore(text, EXACT_COUNT_CHARS)) : text;
    let tokens = 0;
    for (const piece of countingPieces(exact)) tokens += countPiece(piece);
    // The rest's UTF-8 length, measured natively and without copying it (the cut never splits a pair).
    if (exact.length < text.length) tokens += Buffer.byteLength(text, "utf8") - Buffer.byteLength(exact, "utf8");
    return tokens;
  };
}

/**
 * Cuts a text into pieces of at most {@link COUNT_PIECE_CHARS} UTF-16 units:
 * before the last space that follows a non-space in the second half of the
 * window, else at the window's end (moved back off a surrogate pair).
 */
export function* countingPieces(text: string): Generator<string> {
  let start = 0;
  while (text.length - start > COUNT_PIECE_CHARS) {
    const limit = start + COUNT_PIECE_CHARS;
    let end = limit;
    for (let i = limit; i > start + COUNT_PIECE_CHARS / 2; i--) {
      if (text.charCodeAt(i) === 0x20 && !isSpace(text.charCodeAt(i - 1))) {
        end = i;
        break;
      }
    }
    if (end === limit) end = cutBefore(text, limit);
    yield text.slice(start, end);
    start = end;
  }
  if (start < text.length) yield text.slice(start);
}

/** `index`, or one less when it would split a surrogate pair. */
function cutBefore(text: string, index: number): number {
  const before = text.charCodeAt(index - 1);
  return before >= 0xd800 && before <= 0xdbff ? index - 1 : index;
}

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** Tokens a chat message costs beyond its content (role and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
