import { describe, expect, it } from "vitest";
import { chunkText } from "./chunk-text.js";
import { estimatePromptTokens, estimateTokens } from "./estimate-tokens.js";

describe("chunkText", () => {
  it.each(["echo: hello world", "  leading and trailing  ", "one", "multi\nline\n\ntext\n", " ", ""])(
    "splits %j into pieces that join back exactly",
    (text) => {
      expect(chunkText(text).join("")).toBe(text);
    },
  );

  it("makes one piece per word, each with the whitespace before it", () => {
    expect(chunkText("echo: hello  world")).toEqual(["echo:", " hello", "  world"]);
    expect(chunkText("")).toEqual([]);
  });
});

describe("estimateTokens", () => {
  it("counts a token per 4 characters, rounded up, plus chat overhead for prompts", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
    expect(estimatePromptTokens(["abcd", "abcde"])).toBe(3 + (3 + 1) + (3 + 2));
  });
});
