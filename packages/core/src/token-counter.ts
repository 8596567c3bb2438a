/**
 * Token counting for the history budget. Uses gpt-tokenizer, which ships its
 * BPE encodings inside the package (nothing is downloaded at run time: the
 * old service failed behind firewalls fetching them). Encodings are loaded on
 * first use, so an idle server does not carry them.
 */

/** Counts the tokens of a text. */
export type TokenCounter = (text: string) => number;

export type EncodingName = "o200k_base" | "cl100k_base";

/** The encoding for a model name; any unknown model gets o200k_base. */
export function encodingForModel(model: string | undefined): EncodingName {
  const name = (model ?? "").toLowerCase();
  if (/^(gpt-4(?!o|\.[1-9])|gpt-3\.5|text-embedding-(ada|3))/.test(name)) return "cl100k_base";
  return "o200k_base";
}

const loaded = new Map<EncodingName, Promise<TokenCounter>>();

/** Loads (once) and returns the counter for a model. */
export function loadTokenCounter(model: string | undefined): Promise<TokenCounter> {
  const encoding = encodingForModel(model);
  let counter = loaded.get(encoding);
  if (counter === undefined) {
    counter =
      encoding === "cl100k_base"
        ? import("gpt-tokenizer/encoding/cl100k_base").then((m) => (text: string) => m.countTokens(text))
        : import("gpt-tokenizer/encoding/o200k_base").then((m) => (text: string) => m.countTokens(text));
    counter.catch(() => loaded.delete(encoding));
    loaded.set(encoding, counter);
  }
  return counter;
}

/** Tokens a chat message costs beyond its content (role and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
