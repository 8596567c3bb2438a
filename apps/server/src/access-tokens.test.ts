import { describe, expect, it } from "vitest";
import {
  accessTokenLines,
  accessTokenProblem,
  createTokenCheck,
  MAX_ACCESS_TOKEN_CHARS,
  MIN_ACCESS_TOKEN_CHARS,
} from "./access-tokens.js";

const A = "test-server-token-aaaaaaaa";
const B = "test-server-token-bbbbbbbb";

describe("accessTokenProblem", () => {
  it.each([A, "x".repeat(MIN_ACCESS_TOKEN_CHARS), "~".repeat(MAX_ACCESS_TOKEN_CHARS)])("accepts %#", (token) => {
    expect(accessTokenProblem(token)).toBeUndefined();
  });

  it.each([
    ["too short", "x".repeat(MIN_ACCESS_TOKEN_CHARS - 1)],
    ["too long", "x".repeat(MAX_ACCESS_TOKEN_CHARS + 1)],
    ["a space", "test-server token-aaaa"],
    ["CR LF", "test-server-token\r\nX-Evil: 1"],
    ["non-ASCII", "test-server-token-ключ"],
  ])("refuses one %s, without quoting it", (_name, token) => {
    const problem = accessTokenProblem(token);
    expect(problem).toBeDefined();
    expect(problem).not.toContain("test-server");
  });
});

describe("accessTokenLines", () => {
  it("reads one token a line, skipping blanks, comments and CRs", () => {
    expect(accessTokenLines(`# rotated 2026-11\r\n${A}\r\n\n  ${B}  \n`)).toEqual([A, B]);
  });
});

describe("createTokenCheck", () => {
  const check = createTokenCheck({ tokens: [A, B] });

  it("accepts each token as a Bearer credential, the scheme in any case", () => {
    expect(check(`Bearer ${A}`)).toBe(true);
    expect(check(`bearer ${B}`)).toBe(true);
    expect(check(`BEARER ${A}`)).toBe(true);
  });

  it.each([
    ["absent", undefined],
    ["empty", ""],
    ["no scheme", A],
    ["another scheme", `Basic ${A}`],
    ["a wrong token", "Bearer test-server-token-cccccccc"],
    ["a prefix of a token", `Bearer ${A.slice(0, -1)}`],
    ["a token with more after it", `Bearer ${A}x`],
    ["two tokens", `Bearer ${A} ${B}`],
    ["a huge header", `Bearer ${"x".repeat(100_000)}`],
  ])("refuses %s", (_name, header) => {
    expect(check(header)).toBe(false);
  });

  it("needs at least one token", () => {
    expect(() => createTokenCheck({ tokens: [] })).toThrow(RangeError);
  });
});
