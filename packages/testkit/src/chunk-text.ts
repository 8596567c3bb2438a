/**
 * Splits reply text into the pieces a fake streams, one per event: each word with the
 * whitespace before it (" world"), like the token-sized deltas real upstreams send.
 * Joining the pieces gives back the text exactly; "" gives no pieces.
 */
export function chunkText(text: string): string[] {
  if (text === "") return [];
  return text.match(/\s*\S+(?:\s+$)?/g) ?? [text];
}

const WIDE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const PUNCTUATION = /[\p{P}\p{S}]/u;

type Kind = "wide" | "space" | "punctuation" | "other";

function kindOf(char: string): Kind {
  if (WIDE.test(char)) return "wide";
  if (char.trim() === "") return "space";
  if (PUNCTUATION.test(char)) return "punctuation";
  return "other";
}

/**
 * Splits reply text into token-sized pieces of 1–4 characters (code points, never half a
 * surrogate pair), the way models stream: a space starts the next word's piece (" wor", "ld"),
 * CJK text comes one or two characters at a time, punctuation on its own. Deterministic, so a
 * test can count the events. Joining the pieces gives back the text exactly.
 */
export function chunkTokens(text: string): string[] {
  const pieces: string[] = [];
  let piece: string[] = [];
  let pieceKind: Kind | undefined;
  const flush = (): void => {
    if (piece.length > 0) pieces.push(piece.join(""));
    piece = [];
  };
  for (const char of text) {
    const kind = kindOf(char);
    // Cycle the piece lengths so they vary like real tokens: CJK 1–2, other text 2–4 characters.
    const limit = pieceKind === "wide" ? 1 + (pieces.length % 2) : 2 + (pieces.length % 3);
    const sameRun = kind === pieceKind || (pieceKind === "space" && kind !== "space" && piece.length === 1);
    if (piece.length > 0 && (!sameRun || piece.length >= limit)) flush();
    if (piece.length === 0 || pieceKind === "space") pieceKind = kind;
    piece.push(char);
    if (kind === "punctuation") flush();
  }
  flush();
  return pieces;
}
