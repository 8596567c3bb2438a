/**
 * Width of text in "units" for the segmenter's length limits: a CJK or other
 * East Asian wide character counts 2, anything else 1. A Chinese character is
 * a syllable when spoken, about as long as two or three Latin letters, so
 * counting it twice lets one limit suit Chinese, Japanese and English text
 * (the same convention terminals use for East Asian Wide characters).
 */
export function charWidth(codePoint: number): 1 | 2 {
  return isWide(codePoint) ? 2 : 1;
}

/** The width of a whole string (see {@link charWidth}). */
export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) ?? 0);
  return width;
}

/** Whether a code point is East Asian wide: Han, kana, Hangul, CJK punctuation, fullwidth forms. */
export function isWide(codePoint: number): boolean {
  if (codePoint < 0x1100) return false;
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) || // Hangul Jamo
    (codePoint >= 0x2e80 && codePoint <= 0x303e) || // CJK radicals, symbols and punctuation (。、「」)
    (codePoint >= 0x3041 && codePoint <= 0x33ff) || // kana, bopomofo, CJK compatibility
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) || // CJK extension A
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) || // CJK unified ideographs
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) || // Yi
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) || // Hangul syllables
    (codePoint >= 0xf900 && codePoint <= 0xfaff) || // CJK compatibility ideographs
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) || // CJK compatibility forms
    (codePoint >= 0xff00 && codePoint <= 0xff60) || // fullwidth forms (！？，：)
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) || // fullwidth signs
    (codePoint >= 0x20000 && codePoint <= 0x3fffd) // CJK extensions B–H
  );
}
