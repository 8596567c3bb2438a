import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { errorReply } from "./error-response.js";

describe("errorReply", () => {
  it.each([
    [ChatbotError.invalidArgument("prompt is required"), 400],
    [ChatbotError.sessionNotFound("abc"), 404],
    [ChatbotError.tooManySessions(10), 429],
    [ChatbotError.cooldown(1_500), 429],
    [ChatbotError.upstream("bad answer", { status: 500 }), 502],
    [ChatbotError.upstream("unreachable"), 503],
    [new Error("boom"), 500],
  ])("answers %s with %i, text/plain", (error, status) => {
    const reply = errorReply(error);
    expect(reply.status).toBe(status);
    expect(reply.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("never shows an unforeseen error's message", () => {
    expect(errorReply(new Error("sk-test-leaky-key-0001 failed"))).toMatchObject({
      status: 500,
      body: "internal error",
    });
  });

  it("sets Retry-After in whole seconds, rounded up", () => {
    expect(errorReply(ChatbotError.cooldown(1_500)).headers["retry-after"]).toBe("2");
    expect(
      errorReply(ChatbotError.upstream("limited", { status: 429, retryAfterMs: 30_000 })).headers["retry-after"],
    ).toBe("30");
    expect(errorReply(ChatbotError.upstream("down", { status: 503 })).headers["retry-after"]).toBeUndefined();
  });

  it("answers a client that went away with 499 and no body", () => {
    const abort = new DOMException("aborted", "AbortError");
    expect(errorReply(abort)).toMatchObject({ status: 499, body: null, error: { code: ErrorCode.Aborted } });
  });

  it("keeps the status of HTTP's own errors", () => {
    expect(errorReply(new HTTPException(413, { message: "too big" }))).toMatchObject({
      status: 413,
      body: "too big",
      error: undefined,
    });
  });
});
