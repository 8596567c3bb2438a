import { describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode } from "./errors.js";
import { checkSessionId, isPlausibleSessionId, MAX_SESSION_ID_CHARS } from "./session-id.js";

const codeOf = (run: () => void): ErrorCode | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ChatbotError ? error.code : undefined;
  }
};

describe("checkSessionId", () => {
  it("accepts a UUID and an id of exactly the bound", () => {
    expect(codeOf(() => checkSessionId("6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"))).toBeUndefined();
    expect(codeOf(() => checkSessionId("x".repeat(MAX_SESSION_ID_CHARS)))).toBeUndefined();
    expect(isPlausibleSessionId("x".repeat(MAX_SESSION_ID_CHARS))).toBe(true);
  });

  it("refuses an empty id and one past the bound as InvalidArgument", () => {
    expect(codeOf(() => checkSessionId(""))).toBe(ErrorCode.InvalidArgument);
    expect(codeOf(() => checkSessionId("x".repeat(MAX_SESSION_ID_CHARS + 1)))).toBe(ErrorCode.InvalidArgument);
    expect(isPlausibleSessionId("")).toBe(false);
    expect(isPlausibleSessionId("x".repeat(MAX_SESSION_ID_CHARS + 1))).toBe(false);
  });
});
