/**
 * Properties of the streaming segmenter (issue 12): however the upstream text
 * is split into deltas, the segments are the same, and joined they are the
 * text up to the white space between them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterReply } from "./reply-filter.js";
import { Segmenter, type SegmenterOptions, segmentText } from "./segmenter.js";
import { textWidth } from "./text-width.js";

/** Pieces of text that exercise every rule: finals, closers, clause marks, abbreviations, numbers, URLs, CJK, emoji. */
const PIECES = [
  "你好",
  "今天天气很好",
  "我们",
  "こんにちは",
  "ですね",
  "東京",
  "Hello",
  "world",
  "Mr.",
  "Dr.",
  "e.g.",
  "U.S.",
  "etc.",
  "3.14",
  "10:30",
  "v1.2.3",
  "1,000",
  "https://example.com/a.b",
  "a.b@example.org",
  "J.",
  "I",
  "ok",
  "the",
  "and",
  ".",
  "!",
  "?",
  "…",
  "...",
  "?!",
  "。",
  "！",
  "？",
  "；",
  "，",
  "、",
  "：",
  ",",
  ";",
  ":",
  "」",
  "』",
  "”",
  "’",
  "）",
  ")",
  "]",
  '"',
  "'",
  "「",
  "（",
  " ",
  " ",
  " ",
  "\n",
  "\t",
  "😊",
  "👨‍👩‍👧",
  "𠮷",
  "**",
  "- ",
  "# ",
  "`",
  "[link](https://x.y)",
];

const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }).map((pieces) => pieces.join(""));

/** Any text at all, including lone surrogates and control characters. */
const anyText = fc.string({ unit: "binary", maxLength: 300 });

/** Split points for `text`: sorted, distinct code-unit offsets (surrogate pairs may be split). */
function splitAt(source: string, points: number[]): string[] {
  const cuts = [...new Set(points.map((point) => point % (source.length + 1)))].sort((a, b) => a - b);
  const deltas: string[] = [];
  let from = 0;
  for (const cut of cuts) {
    deltas.push(source.slice(from, cut));
    from = cut;
  }
  deltas.push(source.slice(from));
  return deltas;
}

function streamed(deltas: string[], options: SegmenterOptions): string[] {
  const segmenter = new Segmenter(options);
  const segments = deltas.flatMap((delta) => segmenter.push(delta));
  return [...segments, ...segmenter.flush()];
}

/** Whether `segments`, in order, make up `source` with only white space around and between them. */
function tiles(source: string, segments: string[]): boolean {
  let at = 0;
  for (const segment of segments) {
    while (at < source.length && (source[at] ?? "").trim() === "" && !source.startsWith(segment, at)) at++;
    if (segment === "" || !source.startsWith(segment, at)) return false;
    at += segment.length;
  }
  return source.slice(at).trim() === "";
}

const options = fc.record({
  firstMinLength: fc.integer({ min: 1, max: 60 }),
  maxLength: fc.integer({ min: 40, max: 200 }),
});

describe("Segmenter properties", () => {
  it("gives the same segments however the text is split into deltas", () => {
    fc.assert(
      fc.property(
        fc.oneof(text, anyText),
        fc.array(fc.nat(), { maxLength: 40 }),
        options,
        (source, points, lengths) => {
          expect(streamed(splitAt(source, points), lengths)).toEqual(segmentText(source, lengths));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("gives the same filtered segments however the text is split", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 40 }), (source, points) => {
        expect(streamed(splitAt(source, points), { filter: true })).toEqual(segmentText(source, { filter: true }));
      }),
      { numRuns: 300 },
    );
  });

  it("joined, the segments are the text up to white space between them", () => {
    fc.assert(
      fc.property(fc.oneof(text, anyText), options, (source, lengths) => {
        const segments = segmentText(source, lengths);
        expect(tiles(source, segments)).toBe(true);
        for (const segment of segments) expect(segment).toBe(segment.trim());
      }),
      { numRuns: 500 },
    );
  });

  it("keeps segments within the maximum width, give or take closing marks", () => {
    fc.assert(
      fc.property(fc.oneof(text, anyText), options, (source, lengths) => {
        for (const segment of segmentText(source, lengths)) {
          expect(textWidth(segment.replace(/[.!?。！？…；」』”’）)\]"']+$/u, ""))).toBeLessThanOrEqual(
            lengths.maxLength,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("speaks, segment by segment, what filterReply gives for the whole reply", () => {
    fc.assert(
      fc.property(text, (source) => {
        const speakable = (s: string) => s.replace(/[^\p{L}\p{N}]/gu, "");
        const perSegment = segmentText(source, { filter: true }).join("");
        expect(speakable(perSegment)).toBe(speakable(filterReply(source)));
      }),
      { numRuns: 300 },
    );
  });
});
