import { describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode } from "./errors.js";
import { checkPromptLength } from "./prompt-limits.js";

function rejection(run: () => void): ChatbotError | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error as ChatbotError;
  }
}

describe("checkPromptLength", () => {
  it("accepts a text up to the limit, counting an emoji as one character", () => {
    expect(rejection(() => checkPromptLength({ field: "prompt", text: "x".repeat(10), maxChars: 10 }))).toBeUndefined();
    expect(
      rejection(() => checkPromptLength({ field: "prompt", text: "😀".repeat(10), maxChars: 10 })),
    ).toBeUndefined();
    expect(rejection(() => checkPromptLength({ field: "prompt", text: "", maxChars: 1 }))).toBeUndefined();
  });

  it("rejects one character more with InvalidArgument naming the field and the limit, never quoting the text", () => {
    for (const text of ["x".repeat(11), "😀".repeat(11), `${"😀".repeat(10)}x`, "秘".repeat(1_000_000)]) {
      const error = rejection(() => checkPromptLength({ field: "initial_prompt", text, maxChars: 10 }));
      expect(error).toBeInstanceOf(ChatbotError);
      expect(error?.code).toBe(ErrorCode.InvalidArgument);
      expect(error?.message).toBe("initial_prompt is too long: the limit is 10 characters");
    }
  });

  it("counts a lone surrogate as one character", () => {
    expect(
      rejection(() => checkPromptLength({ field: "prompt", text: "\uD800".repeat(10), maxChars: 10 })),
    ).toBeUndefined();
    expect(
      rejection(() => checkPromptLength({ field: "prompt", text: "\uDC00".repeat(11), maxChars: 10 })),
    ).toBeDefined();
  });
});
