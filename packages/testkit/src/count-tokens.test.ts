import { describe, expect, it } from "vitest";
import { countPromptTokens, countTextTokens } from "./count-tokens.js";

const chinese = "你好，今天天气怎么样？我们一起去公园散步吧。"; // 22 characters

describe("countTextTokens", () => {
  it("counts real o200k_base tokens", () => {
    expect(countTextTokens("")).toBe(0);
    expect(countTextTokens("hello there, how are you")).toBe(6);
    expect(countTextTokens("You are terse.")).toBe(4);
  });

  it("does not undercount Chinese as one token per 4 characters would (22 characters: 16 tokens, not 6)", () => {
    expect(countTextTokens(chinese)).toBe(16);
    expect(countTextTokens(chinese)).toBeGreaterThan(chinese.length / 2);
    expect(countTextTokens(chinese)).toBeLessThanOrEqual(chinese.length);
  });
});

describe("countPromptTokens", () => {
  it("is 3 + Σ (3 + role + content), as OpenAI counts chat prompts", () => {
    const messages = [
      { role: "system", content: "You are terse." }, // 3 + 1 + 4
      { role: "user", content: "hello there, how are you" }, // 3 + 1 + 6
    ];
    expect(countPromptTokens(messages)).toBe(3 + 8 + 10);
    expect(countPromptTokens([])).toBe(3);
  });

  it("adds a message's name and 1 more token for it", () => {
    expect(countPromptTokens([{ role: "user", content: "hello there, how are you", name: "Mimi" }])).toBe(
      3 + (3 + 1 + 6) + (1 + 2),
    );
  });

  it("counts a Chinese prompt by its real tokens", () => {
    expect(countPromptTokens([{ role: "user", content: chinese }])).toBe(3 + 3 + 1 + 16);
  });
});

describe("special tokens", () => {
  it("are counted as the text they are, as the real API does for a message's content", () => {
    expect(countTextTokens("say <|endoftext|> please")).toBeGreaterThan(countTextTokens("say please") + 3);
    expect(countPromptTokens([{ role: "user", content: "<|im_start|>" }])).toBeGreaterThan(3 + 3 + 1 + 1);
  });
});
