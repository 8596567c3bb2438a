import { describe, expect, it } from "vitest";
import { encodingForModel, loadTokenCounter } from "./token-counter.js";

describe("encodingForModel", () => {
  it.each([
    ["gpt-4", "cl100k_base"],
    ["gpt-4-turbo", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["gpt-4o", "o200k_base"],
    ["gpt-4o-mini", "o200k_base"],
    ["gpt-4.1", "o200k_base"],
    ["gpt-5-mini", "o200k_base"],
    ["o3-mini", "o200k_base"],
    ["deepseek-chat", "o200k_base"],
    ["qwen2.5:7b", "o200k_base"],
    [undefined, "o200k_base"],
  ] as const)("%s → %s", (model, encoding) => {
    expect(encodingForModel(model)).toBe(encoding);
  });
});

describe("loadTokenCounter", () => {
  it("counts with the shipped encodings, for any model name, without a network", async () => {
    const o200k = await loadTokenCounter("some-unknown-model");
    const cl100k = await loadTokenCounter("gpt-4");
    expect(o200k("hello world")).toBe(2);
    expect(cl100k("hello world")).toBe(2);
    // Chinese costs more than one token per few characters: a character heuristic would undercount.
    expect(o200k("今天的直播好开心，谢谢大家的礼物！")).toBeGreaterThan(5);
    expect(await loadTokenCounter("gpt-4o")).toBe(o200k); // loaded once per encoding
  });
});
