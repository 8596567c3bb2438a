/**
 * Splits reply text into the pieces a fake streams, one per event: each word with the
 * whitespace before it (" world"), like the token-sized deltas real upstreams send.
 * Joining the pieces gives back the text exactly; "" gives no pieces.
 */
export function chunkText(text: string): string[] {
  if (text === "") return [];
  return text.match(/\s*\S+(?:\s+$)?/g) ?? [text];
}
