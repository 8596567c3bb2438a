import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { HTTP_STATUSES, httpStatus, upstreamHttpStatus } from "./error-status.js";

describe("HTTP_STATUSES", () => {
  it.each([
    [ErrorCode.InvalidArgument, 400],
    [ErrorCode.TooManySessions, 429],
    [ErrorCode.SessionNotFound, 404],
    [ErrorCode.Cooldown, 429],
    [ErrorCode.Upstream, 502],
    [ErrorCode.Unavailable, 503],
    [ErrorCode.Aborted, 499],
    [ErrorCode.Internal, 500],
  ])("%s → %i", (code, status) => {
    expect(HTTP_STATUSES[code]).toBe(status);
  });

  it("covers every code of core", () => {
    expect(Object.keys(HTTP_STATUSES).sort()).toEqual(Object.values(ErrorCode).sort());
  });
});

describe("httpStatus", () => {
  it("answers 503 for an upstream that is unreachable or rate limited, 502 for a bad answer", () => {
    expect(httpStatus(ChatbotError.upstream("down"))).toBe(503);
    expect(httpStatus(ChatbotError.upstream("limited", { status: 429 }))).toBe(503);
    expect(httpStatus(ChatbotError.upstream("overloaded", { status: 503 }))).toBe(503);
    expect(httpStatus(ChatbotError.upstream("bad", { status: 500 }))).toBe(502);
    expect(httpStatus(ChatbotError.upstream("auth", { status: 401 }))).toBe(502);
    expect(upstreamHttpStatus(undefined)).toBe(503);
  });

  it("takes every other code from the table", () => {
    expect(httpStatus(ChatbotError.sessionNotFound("abc"))).toBe(404);
    expect(httpStatus(ChatbotError.cooldown(1_000))).toBe(429);
    expect(httpStatus(ChatbotError.from(new Error("bug")))).toBe(500);
  });
});
