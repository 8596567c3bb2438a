import { charWidth, isWide } from "./text-width.js";

/**
 * Where a speakable segment ends: the rules of issue 12's "Segments", as one
 * pure function of the text seen so far. The streaming {@link Segmenter} calls
 * it on every delta; because it answers "undecided" whenever the answer could
 * still depend on text that has not arrived, the segments never depend on how
 * the text was split into deltas.
 */

/** Sentence-final marks that end a segment wherever they stand. */
const CJK_FINALS = new Set(["。", "！", "？", "…", "；", "｡", "‼", "⁇", "⁈", "⁉"]);
/** Sentence-final marks that end a segment only before white space, a CJK character or the end. */
const ASCII_FINALS = new Set([".", "!", "?"]);
/** Closing quotes and brackets that stay with the sentence they close. */
const CLOSERS = new Set(["」", "』", "”", "’", "）", ")", "]", "】", "》", "〉", "〕", '"', "'"]);
/** Clause marks that may end a segment early wherever they stand. */
const CJK_CLAUSE_MARKS = new Set(["，", "、", "：", "﹐", "､"]);
/** Clause marks that count only before white space or a CJK character (so 1,000 / 10:30 / a;b never split). */
const ASCII_CLAUSE_MARKS = new Set([",", ";", ":"]);

/**
 * Words that end with a full stop without ending the sentence (lower case, without their last dot).
 * Left out on purpose: words that as often end a sentence ("etc", "no", "co").
 */
const ABBREVIATIONS = new Set([
  "mr",
  "mrs",
  "ms",
  "mx",
  "dr",
  "prof",
  "sr",
  "jr",
  "st",
  "mt",
  "ft",
  "vs",
  "cf",
  "al",
  "approx",
  "dept",
  "est",
  "fig",
  "gen",
  "gov",
  "inc",
  "ltd",
  "corp",
  "capt",
  "col",
  "lt",
  "sgt",
  "rev",
  "sen",
  "rep",
  "jan",
  "feb",
  "aug",
  "sept",
  "oct",
  "nov",
  "dec",
  "ph.d",
  "vol",
  "pp",
]);

/** A run of final marks or closers longer than this ends the segment anyway (bounds the lookahead on hostile input). */
const MAX_RUN = 32;

export interface BoundaryOptions {
  /** The text buffered so far. */
  text: string;
  /** Where the segment starts (not white space). */
  start: number;
  /** Whether this is the reply's first segment, which may end early at a clause mark. */
  first: boolean;
  /** Whether the text is complete (no more deltas will come). */
  final: boolean;
  /** Width (see `textWidth`) from which the first segment may end at a clause mark. */
  firstMinLength: number;
  /** Width beyond which a segment is cut at its last clause mark or space. */
  maxLength: number;
}

const NOT_END = -1;
const NEED_MORE = -2;

function isWhiteSpace(char: string): boolean {
  return char.trim() === "";
}

/** Whether the code point at `index` continues the character before it (combining mark, joiner, variation selector). */
function continuesCharacter(text: string, index: number): boolean {
  const char = String.fromCodePoint(text.codePointAt(index) ?? 0);
  return /\p{M}|\u200d|\ufe0e|\ufe0f/u.test(char) || text[index - 1] === "\u200d";
}

/** Whether the single `.` at `dot` follows an abbreviation (Mr., e.g., U.S., J.) or a list number at the segment's start. */
function isNonFinalDot(text: string, start: number, dot: number): boolean {
  let from = dot;
  while (from > start && /[A-Za-z.]/.test(text[from - 1] ?? "")) from--;
  const word = text.slice(from, dot);
  if (word !== "") {
    if (ABBREVIATIONS.has(word.toLowerCase())) return true;
    if (/^[A-HJ-Z]$/.test(word)) return true; // an initial (J. K. Rowling); not "I"
    if (/^(?:[A-Za-z]\.)+[A-Za-z]$/.test(word)) return true; // e.g, i.e, U.S, a.m, U.S.A
    return false;
  }
  let digits = dot;
  while (digits > start && /[0-9]/.test(text[digits - 1] ?? "")) digits--;
  // "1. First item": a numbered list's marker, not a sentence.
  return digits === start && dot - digits >= 1 && dot - digits <= 3;
}

/**
 * The end of a sentence whose final mark is at `index`: just after the run of
 * final marks and closers, {@link NOT_END}, or {@link NEED_MORE} when the run
 * reaches the end of text that is not final.
 */
function sentenceEnd(text: string, start: number, index: number, final: boolean): number {
  let end = index;
  let ascii = true;
  while (end < text.length && end - index < MAX_RUN) {
    const char = text[end] ?? "";
    if (CJK_FINALS.has(char)) ascii = false;
    else if (!ASCII_FINALS.has(char)) break;
    end++;
  }
  const runEnd = end;
  while (end < text.length && end - index < MAX_RUN && CLOSERS.has(text[end] ?? "")) end++;
  if (end === text.length) return final ? end : NEED_MORE;
  if (end - index >= MAX_RUN) return end;
  if (!ascii) return end;
  const after = text.codePointAt(end) ?? 0;
  if (!isWhiteSpace(String.fromCodePoint(after)) && !isWide(after)) return NOT_END;
  if (runEnd - index === 1 && text[index] === ".") {
    if (isNonFinalDot(text, start, index)) return NOT_END;
    // "etc. and more": a sentence does not start with a lower-case letter; look past the spaces (within bounds).
    let word = end;
    while (word < text.length && word - end < MAX_RUN && (text[word] === " " || text[word] === "\t")) word++;
    if (word === text.length && !final) return NEED_MORE;
    if (/\p{Ll}/u.test(text[word] ?? "")) return NOT_END;
  }
  return end;
}

/**
 * The end (exclusive) of the segment that starts at `start`, or `undefined`
 * when that depends on text not yet seen. With `final`, always an end.
 *
 * A segment ends after sentence-final punctuation (with its closing quotes and
 * brackets) and at a newline; the first segment may end at a clause mark once
 * `firstMinLength` wide; a segment that would grow wider than `maxLength` is
 * cut at its last clause mark (when that keeps at least half the width) or
 * space, else before the character that does not fit.
 */
export function findSegmentEnd({
  text,
  start,
  first,
  final,
  firstMinLength,
  maxLength,
}: BoundaryOptions): number | undefined {
  let width = 0;
  let lastClause = -1;
  let lastClauseWidth = 0;
  let lastSpace = -1;
  for (let index = start; index < text.length; ) {
    const code = text.codePointAt(index) ?? 0;
    // A high surrogate at the end may be half of a character whose other half is in the next delta.
    if (!final && index === text.length - 1 && code >= 0xd800 && code <= 0xdbff) return undefined;
    const size = code > 0xffff ? 2 : 1;
    const char = text.slice(index, index + size);
    const charWidthUnits = charWidth(code);
    if (width + charWidthUnits > maxLength && index > start) {
      if (lastClause > start && lastClauseWidth * 2 >= maxLength) return lastClause;
      if (isWhiteSpace(char)) return index; // the space that does not fit is the last one
      if (lastSpace > start) return lastSpace;
      if (lastClause > start) return lastClause;
      let cut = index;
      while (cut > start + 1 && continuesCharacter(text, cut))
        cut -= /[\udc00-\udfff]/.test(text[cut - 1] ?? "") ? 2 : 1;
      return cut;
    }
    width += charWidthUnits;
    const next = index + size;
    if (char === "\n") return next;
    if (CJK_FINALS.has(char) || ASCII_FINALS.has(char)) {
      const end = sentenceEnd(text, start, index, final);
      if (end === NEED_MORE) return undefined;
      if (end !== NOT_END) return end;
    } else if (CJK_CLAUSE_MARKS.has(char)) {
      if (first && width >= firstMinLength) return next;
      lastClause = next;
      lastClauseWidth = width;
    } else if (ASCII_CLAUSE_MARKS.has(char)) {
      if (next === text.length) {
        if (first && width >= firstMinLength) return final ? next : undefined;
      } else if (isWhiteSpace(text[next] ?? "") || isWide(text.codePointAt(next) ?? 0)) {
        if (first && width >= firstMinLength) return next;
        lastClause = next;
        lastClauseWidth = width;
      }
    } else if (isWhiteSpace(char)) {
      lastSpace = index;
    }
    index = next;
  }
  return final ? text.length : undefined;
}
