import type { ChatMessage } from "@chatgptchatbot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildMessages } from "./protocol.js";
import { chatCompletionsBody } from "./request-body.js";

/** What the body must equal: the request's params through JSON.stringify, as the SDK would send them. */
function stringified(input: {
  model: string;
  systemPrompt: string;
  history: readonly ChatMessage[];
  prompt: string;
  temperature?: number | undefined;
}): Buffer {
  const params = {
    model: input.model,
    messages: buildMessages(input),
    stream: true,
    ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
  };
  return Buffer.from(JSON.stringify(params));
}

// Any UTF-16 text: lone surrogates, quotes, backslashes, control characters, CJK, emoji.
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', "\\", "\n", "\u0000", "\u2028", "你", "😀", "\ud800"),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  ),
  maxLength: 40,
});
const entry = fc.record({
  role: fc.constantFrom("user", "assistant") as fc.Arbitrary<"user" | "assistant">,
  content: text,
});

describe("chatCompletionsBody", () => {
  it("is byte for byte JSON.stringify of the request's params", () => {
    fc.assert(
      fc.property(
        fc.record({
          model: text,
          systemPrompt: fc.oneof(text, fc.constantFrom("", "   ")),
          history: fc.array(entry, { maxLength: 8 }),
          prompt: text,
          temperature: fc.option(fc.oneof(fc.double({ noNaN: false }), fc.integer()), { nil: undefined }),
        }),
        (input) => {
          expect(chatCompletionsBody(input).equals(stringified(input))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("sends the same history entries again, as they are now, on the next chat", () => {
    const history: ChatMessage[] = [
      { role: "user", content: "first" },
      { role: "assistant", content: "reply" },
    ];
    const input = { model: "gpt-4o-mini", systemPrompt: "", history, prompt: "second" };
    expect(chatCompletionsBody(input).equals(stringified(input))).toBe(true);
    const next = { ...input, history: [...history, { role: "user" as const, content: "second" }], prompt: "third" };
    expect(chatCompletionsBody(next).equals(stringified(next))).toBe(true);
    // An entry changed in place (stores must not, but a body must never carry what it no longer says).
    (history[1] as { content: string }).content = "edited";
    expect(chatCompletionsBody(next).toString()).toContain('"content":"edited"');
    expect(chatCompletionsBody(next).equals(stringified(next))).toBe(true);
  });
});
