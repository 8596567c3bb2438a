import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ThinkPart, ThinkTagSplitter } from "./think-tags.js";

/**
 * Feeds `deltas` and returns the joined reasoning and text, and every part in
 * order. Checks on the way what the OpenAI backend relies on: once the
 * splitter `passesThrough`, a delta comes back alone, as text, unchanged.
 */
function split(deltas: string[]): { reasoning: string; text: string; parts: ThinkPart[] } {
  const splitter = new ThinkTagSplitter();
  const parts = [
    ...deltas.flatMap((delta) => {
      const passesThrough = splitter.passesThrough;
      const out = splitter.push(delta);
      if (passesThrough) expect(out).toEqual(delta === "" ? [] : [{ type: "text", text: delta }]);
      return out;
    }),
    ...splitter.flush(),
  ];
  const join = (type: ThinkPart["type"]) =>
    parts
      .filter((part) => part.type === type)
      .map((part) => part.text)
      .join("");
  return { reasoning: join("reasoning"), text: join("text"), parts };
}

/** `source` cut at the given code-unit offsets (any byte of a tag, any half of a surrogate pair). */
function cut(source: string, points: number[]): string[] {
  const cuts = [...new Set(points.map((point) => point % (source.length + 1)))].sort((a, b) => a - b);
  const deltas: string[] = [];
  let from = 0;
  for (const at of cuts) {
    deltas.push(source.slice(from, at));
    from = at;
  }
  return [...deltas, source.slice(from)];
}

describe("ThinkTagSplitter", () => {
  it.each([
    // [content deltas, reasoning, text]
    [["<think>\n用户在打招呼。\n</think>\n\n你好！"], "\n用户在打招呼。\n", "你好！"],
    [["<thi", "nk>plan", " it</th", "ink>", "\n", "Hello", " there"], "plan it", "Hello there"],
    [["  \n", "<", "t", "h", "i", "n", "k", ">", "x", "<", "/", "think", ">", "y"], "x", "y"],
    [["Hello <think>not reasoning</think>"], "", "Hello <think>not reasoning</think>"],
    [["<thinking is fun"], "", "<thinking is fun"],
    [["<th"], "", "<th"],
    [["<think>cut off while thinking"], "cut off while thinking", ""],
    [["<think></think>", "Answer."], "", "Answer."],
    [["<think>a < b and </thin b</think>ok"], "a < b and </thin b", "ok"],
    [["   "], "", "   "],
    [[], "", ""],
  ])("%j", (deltas, reasoning, text) => {
    const result = split(deltas);
    expect(result.reasoning).toBe(reasoning);
    expect(result.text).toBe(text);
  });

  it("passes text through at once when the reply does not start with <think>", () => {
    const splitter = new ThinkTagSplitter();
    expect(splitter.push("Hi")).toEqual([{ type: "text", text: "Hi" }]);
    expect(splitter.push(" <think>")).toEqual([{ type: "text", text: " <think>" }]);
  });

  it("gives reasoning as it arrives, holding back only what may be the closing tag", () => {
    const splitter = new ThinkTagSplitter();
    expect(splitter.push("<think>step one</")).toEqual([{ type: "reasoning", text: "step one" }]);
    expect(splitter.push("div> two")).toEqual([{ type: "reasoning", text: "</div> two" }]);
    expect(splitter.push("</think>\n")).toEqual([]);
    expect(splitter.push("\nAnswer")).toEqual([{ type: "text", text: "Answer" }]);
  });

  it("finds the same reasoning and text however the content is split into deltas", () => {
    const alphabet = fc.constantFrom(
      "<",
      ">",
      "/",
      "t",
      "h",
      "i",
      "n",
      "k",
      " ",
      "\n",
      "想",
      "a",
      "😊",
      "<think>",
      "</think>",
    );
    const piece = fc.array(alphabet, { maxLength: 30 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(
        fc.constantFrom("", " ", "\n", " \n "),
        piece.filter((reasoning) => !reasoning.includes("</think>")),
        fc.constantFrom("", "\n", "\n\n", " "),
        piece,
        fc.array(fc.nat(), { maxLength: 20 }),
        (lead, reasoning, gap, content, points) => {
          const source = `${lead}<think>${reasoning}</think>${gap}${content}`;
          const result = split(cut(source, points));
          expect(result.reasoning).toBe(reasoning);
          expect(result.text).toBe(`${gap}${content}`.trimStart());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("passes deltas through only once the reply's start has shown there is no reasoning, or it is over", () => {
    const plain = new ThinkTagSplitter();
    expect(plain.passesThrough).toBe(false);
    plain.push(" <th");
    expect(plain.passesThrough).toBe(false);
    plain.push("at is no tag");
    expect(plain.passesThrough).toBe(true);
    const thinking = new ThinkTagSplitter();
    thinking.push("<think>hmm");
    expect(thinking.passesThrough).toBe(false);
    thinking.push("</think>\n");
    expect(thinking.passesThrough).toBe(false);
    thinking.push("Answer");
    expect(thinking.passesThrough).toBe(true);
  });

  it("leaves a reply without a leading <think> whole, however it is split", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("<", ">", "/", "t", "h", "i", "n", "k", " ", "x", "\n"), maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (source, points) => {
          fc.pre(!source.trimStart().startsWith("<think>"));
          const result = split(cut(source, points));
          expect(result.reasoning).toBe("");
          expect(result.text).toBe(source);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
