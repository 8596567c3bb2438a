import { describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode } from "./errors.js";

describe("ChatbotError", () => {
  it("cooldown carries retry-after and says the seconds to wait", () => {
    const error = ChatbotError.cooldown(12_300);
    expect(error.code).toBe(ErrorCode.Cooldown);
    expect(error.retryAfterMs).toBe(12_300);
    expect(error.retryAfterSeconds).toBe(13);
    expect(error.message).toBe("cooling down: try again in 13 s");
    expect(error.isRetryable).toBe(true);
  });

  it("upstream errors keep the upstream's status and wait, for the transports' tables", () => {
    const error = ChatbotError.upstream("limited", { status: 429, retryAfterMs: 2_000 });
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.upstreamStatus).toBe(429);
    expect(error.retryAfterSeconds).toBe(2);
    expect(error.isRetryable).toBe(true);
    expect(ChatbotError.upstream("down").upstreamStatus).toBeUndefined();
  });

  it("from() keeps ChatbotErrors, maps aborts, and hides anything else", () => {
    const known = ChatbotError.sessionNotFound("abc");
    expect(ChatbotError.from(known)).toBe(known);

    const abort = new DOMException("This operation was aborted", "AbortError");
    expect(ChatbotError.from(abort).code).toBe(ErrorCode.Aborted);

    const bug = new TypeError("cannot read properties of undefined (reading 'x') at /srv/app.js:1:2");
    const mapped = ChatbotError.from(bug);
    expect(mapped.code).toBe(ErrorCode.Internal);
    expect(mapped.message).toBe("internal error");
    expect(mapped.message).not.toContain("app.js");
    expect(mapped.cause).toBe(bug);
    expect(ChatbotError.from("a string").code).toBe(ErrorCode.Internal);
  });

  it("is an Error with a name and stable code", () => {
    const error = ChatbotError.invalidArgument("prompt is required");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ChatbotError");
    expect(error.isRetryable).toBe(false);
  });
});
