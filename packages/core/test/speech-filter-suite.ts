/**
 * The suite every speech filter (stripMarkdown, filterReply) passes: its own
 * examples, rule by rule, and one corpus of ordinary text it must leave
 * exactly as it is.
 */
import { describe, expect, it } from "vitest";

/** [text from a model, what text-to-speech should get], grouped by the rule each example shows. */
export type SpokenExamples = Readonly<Record<string, readonly (readonly [text: string, spoken: string])[]>>;

/**
 * Text that must reach text-to-speech unchanged, grouped by what a speech
 * filter could take it for.
 */
export const ORDINARY_TEXT: Readonly<Record<string, readonly string[]>> = {
  "not Markdown, though it has its characters": [
    "snake_case_name and a_b_c",
    "2 * 3 = 6 and 2*3 = 6",
    "C++ and C# are languages.",
    "A - B is a range; -5 is negative.",
    "1. First\n2. Second",
    "email: a_b@example.com",
  ],
  "not a text face, though it has a face's characters": [
    "The stream starts at 10:30 tonight, and ends at 12:00.",
    "See https://example.com/a:b?x=1 for details.",
    "Ratio 3:2, list: apples; bananas (ripe) and pears.",
    "Scores: 3:0 and 2:1!",
    "Number 8) is the last item.",
    "Call me at +1 (555) 010-9999.",
    "价格:3元，比分3:0，时间12:30开始。",
  ],
  "punctuation, Chinese text, nothing": [
    'He said "hi" (quietly) - then left...',
    "Use std::vector<int> in C++; it's fine.",
    "第一：准备好；第二：开始直播。",
    "价格是 ¥100，时间是 8:00。",
    "价格:3元，比分3:0。",
    "请看第(1)条和第(2)条。",
    "",
  ],
};

/** Tests `filter` on each rule's examples, then on every entry of {@link ORDINARY_TEXT}. */
export function describeSpeechFilter(filter: (text: string) => string, examples: SpokenExamples): void {
  describe.each(Object.entries(examples))("%s", (_rule, cases) => {
    it.each(cases)("%j", (text, spoken) => {
      expect(filter(text)).toBe(spoken);
    });
  });

  describe.each(Object.entries(ORDINARY_TEXT))("leaves ordinary text intact: %s", (_kind, texts) => {
    it.each(texts)("%j", (text) => {
      expect(filter(text)).toBe(text);
    });
  });
}
