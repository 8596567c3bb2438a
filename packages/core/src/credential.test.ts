import { describe, expect, it } from "vitest";
import { credentialProblem, MAX_CREDENTIAL_CHARS } from "./credential.js";

describe("credentialProblem", () => {
  it.each(["sk-test-abc123", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "!~", "x".repeat(MAX_CREDENTIAL_CHARS)])(
    "accepts %#",
    (value) => {
      expect(credentialProblem(value)).toBeUndefined();
    },
  );

  it.each([
    ["empty", ""],
    ["a NUL", "sk-test-nul\u0000x"],
    ["Cyrillic", "sk-test-ключ"],
    ["an inner space", "sk-test a"],
    ["a tab", "sk-test\ta"],
    ["DEL", "sk-test-\u007f"],
    ["CR LF (header injection)", "sk-test\r\nX-Evil: 1"],
    ["an emoji", "sk-test-😀"],
    ["one character too many", "x".repeat(MAX_CREDENTIAL_CHARS + 1)],
  ])("refuses %s, never quoting the value", (_name, value) => {
    const problem = credentialProblem(value);
    expect(problem).toBeDefined();
    if (value !== "") expect(problem).not.toContain(value);
    expect(problem).not.toContain("sk-test");
  });
});
