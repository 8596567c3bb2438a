import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { parseJsonObject } from "./json-body.js";

function refusal(text: string): string {
  try {
    parseJsonObject(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.InvalidArgument);
    return (error as ChatbotError).message;
  }
  throw new Error("expected a refusal");
}

describe("parseJsonObject", () => {
  it("reads a JSON object", () => {
    expect(parseJsonObject('{"prompt": "[{hi}]", "n": [[1]]}')).toEqual({ prompt: "[{hi}]", n: [[1]] });
  });

  it.each([
    ["", "the request body is empty: send a JSON object"],
    ["{", "the request body is not valid JSON"],
    ["[1]", "the request body must be a JSON object"],
    [`{"prompt": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`, "the request body nests deeper than 32 levels"],
    [`${'{"a":'.repeat(33)}1${"}".repeat(33)}`, "the request body nests deeper than 32 levels"],
  ])("refuses %#", (text, message) => {
    expect(refusal(text)).toBe(message);
  });
});
