import { describe, expect, it } from "vitest";
import {
  boundedCounter,
  COUNT_PIECE_CHARS,
  countingPieces,
  EXACT_COUNT_CHARS,
  encodingForModel,
  loadTokenCounter,
} from "./token-counter.js";

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

describe("counting hostile text", () => {
  const natural = [
    "The quick brown fox jumps over the lazy dog.  Twice!\n\nThen it rests, doesn't it? ",
    "今天的直播好开心，谢谢大家的礼物！主播说：“我们下次再见。” ",
    "function add(a, b) {\n  return a + b; // 1234567 + 89\n}\n",
    "Grüße aus Köln — ça va? 🎉🎉 ",
  ]
    .join("")
    .repeat(40);

  it.each(["o200k_base-model", "gpt-4"])(
    "counts ordinary text exactly as the encoder does in one piece (%s)",
    async (model) => {
      const count = await loadTokenCounter(model);
      const encoder =
        encodingForModel(model) === "cl100k_base"
          ? await import("gpt-tokenizer/encoding/cl100k_base")
          : await import("gpt-tokenizer/encoding/o200k_base");
      expect(natural.length).toBeGreaterThan(COUNT_PIECE_CHARS * 20);
      expect(count(natural)).toBe(encoder.countTokens(natural));
    },
  );

  it("counts special tokens as ordinary text instead of throwing (prompt, initial prompt or reply)", async () => {
    for (const model of [undefined, "gpt-4"]) {
      const count = await loadTokenCounter(model);
      const n = count("say <|endoftext|> please <|im_start|><|fim_prefix|>");
      // As text, "<|endoftext|>" is several tokens, not the one special token.
      expect(n).toBeGreaterThan(count("say  please ") + 3);
    }
  });

  it("never splits a surrogate pair and never drops or adds a character", () => {
    const text = `${"a".repeat(COUNT_PIECE_CHARS - 1)}😀${"b ".repeat(200)}${"😀".repeat(300)}`;
    const pieces = [...countingPieces(text)];
    expect(pieces.join("")).toBe(text);
    for (const piece of pieces) {
      expect(piece.length).toBeGreaterThan(0);
      expect(piece.length).toBeLessThanOrEqual(COUNT_PIECE_CHARS);
      expect(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/.test(piece)).toBe(false);
    }
  });

  it("cuts before a space that follows a word, so ordinary pieces split where the encoder splits", () => {
    const words = "hello world ".repeat(50);
    for (const piece of [...countingPieces(words)].slice(1))
      expect(piece.startsWith(" ") && piece[1] !== " ").toBe(true);
  });

  it("counts long runs without spaces close to the truth, never under it by more than a token per piece", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    const count = await loadTokenCounter(undefined);
    for (const run of ["x".repeat(4_000), "今天的直播好开心".repeat(500), "QUJD+/ZGVm".repeat(400)]) {
      const truth = countTokens(run);
      const pieces = Math.ceil(run.length / COUNT_PIECE_CHARS);
      expect(count(run)).toBeGreaterThanOrEqual(truth - pieces);
      expect(count(run)).toBeLessThanOrEqual(truth + pieces);
    }
  });

  it("bounds the text it encodes: beyond EXACT_COUNT_CHARS each UTF-8 byte counts as a token", () => {
    const seen: string[] = [];
    const count = boundedCounter((piece) => {
      seen.push(piece);
      return 1;
    });
    const tail = "é".repeat(1_000); // 2 bytes each
    const total = count("x".repeat(EXACT_COUNT_CHARS) + tail);
    expect(seen.join("")).toBe("x".repeat(EXACT_COUNT_CHARS));
    expect(total).toBe(seen.length + 2_000);
    seen.length = 0;
    const mixed = "a\u00e9\u4eca😀\uD800z"; // 1 + 2 + 3 + 4 + 3 (a lone surrogate, as U+FFFD) + 1 bytes
    expect(count("x".repeat(EXACT_COUNT_CHARS) + mixed)).toBe(seen.length + Buffer.byteLength(mixed, "utf8"));
    expect(Buffer.byteLength(mixed, "utf8")).toBe(14);
    // A cut inside a surrogate pair moves before it.
    seen.length = 0;
    count(`${"x".repeat(EXACT_COUNT_CHARS - 1)}😀tail`);
    expect(seen.join("")).toBe("x".repeat(EXACT_COUNT_CHARS - 1));
  });

  it("does work linear in the text's length: the encoder sees pieces whose lengths sum to the text's", () => {
    let encoded = 0;
    let longest = 0;
    const count = boundedCounter((piece) => {
      encoded += piece.length;
      longest = Math.max(longest, piece.length);
      return 1;
    });
    count("x".repeat(100_000));
    expect(encoded).toBe(EXACT_COUNT_CHARS);
    expect(longest).toBe(COUNT_PIECE_CHARS);
  });
});
