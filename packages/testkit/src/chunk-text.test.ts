import { describe, expect, it } from "vitest";
import { chunkText, chunkTokens } from "./chunk-text.js";

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

describe("chunkTokens", () => {
  const texts = [
    "Hello there! How are you doing today? I'm fine, thanks.",
    "你好！今天天气很好，我们去公园散步吧。",
    "こんにちは、元気ですか？",
    "Mixed 中文 and English, with emoji 😊👨‍👩‍👧 and 𠮷.",
    "line one\n\nline two   spaced",
    "",
  ];

  it.each(texts)("splits %j into 1–4 character pieces that join back exactly", (text) => {
    const pieces = chunkTokens(text);
    expect(pieces.join("")).toBe(text);
    for (const piece of pieces) {
      const length = [...piece].length;
      expect(length).toBeGreaterThanOrEqual(1);
      expect(length).toBeLessThanOrEqual(4);
    }
  });

  it("streams English a part of a word at a time, with the space before the word", () => {
    expect(chunkTokens("Hello world.")).toEqual(["He", "llo", " wor", "ld", "."]);
  });

  it("streams Chinese one or two characters at a time", () => {
    const pieces = chunkTokens("今天天气很好。");
    expect(pieces.join("")).toBe("今天天气很好。");
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    expect(pieces.at(-1)).toBe("。");
  });
});
