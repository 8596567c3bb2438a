import { describe, expect, it } from "vitest";
import { parseRenewRequest } from "./renew-request.js";

describe("parseRenewRequest", () => {
  it.each([
    [{ access_token: "eyJ-test" }, { version: 1, credential: "eyJ-test" }],
    [
      { api_key: "sk-test", version: 3 },
      { version: 3, credential: "sk-test" },
    ],
    [{ api_key: "sk-test" }, { version: 3, credential: "sk-test" }],
    [
      { access_token: "sk-test", version: "3" },
      { version: 3, credential: "sk-test" },
    ],
    [
      { access_token: "eyJ-test", version: null },
      { version: 1, credential: "eyJ-test" },
    ],
  ])("reads %j", (body, expected) => {
    expect(parseRenewRequest(body)).toEqual(expected);
  });

  it.each([
    [{}, "access_token is required"],
    [{ access_token: 1 }, "access_token must be a string"],
    [{ api_key: false, version: 3 }, "api_key must be a string"],
    [{ access_token: "x", version: 4 }, "unsupported version 4: use 1 (access token) or 3 (API key)"],
    [{ access_token: "x", version: "v1" }, 'unsupported version "v1": use 1 (access token) or 3 (API key)'],
    [
      { access_token: "x", version: "v".repeat(100_000) },
      `unsupported version "${"v".repeat(40)}…" (100000 characters): use 1`,
    ],
    [{ access_token: "x", version: "\r\nX-Evil: 1" }, 'unsupported version "\\u000d\\u000aX-Evil: 1": use 1'],
    [{ access_token: "x", version: { deep: [[[]]] } }, "unsupported version an object: use 1"],
  ])("rejects %j", (body, message) => {
    expect(() => parseRenewRequest(body)).toThrow(message);
  });
});
