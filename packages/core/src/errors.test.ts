import { describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode, MAX_ERROR_MESSAGE_CHARS } from "./errors.js";

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

describe("messages bounded for gRPC metadata", () => {
  it("session not found quotes a hostile id short and escaped (a 100,000-character id)", () => {
    const message = ChatbotError.sessionNotFound("i".repeat(100_000)).message;
    expect(message).toBe(`session not found: "${"i".repeat(40)}…" (100000 characters)`);
    expect(ChatbotError.sessionNotFound("a\u0000\r\nb").message).toBe('session not found: "a\\u0000\\u000d\\u000ab"');
    expect(ChatbotError.sessionNotFound("7f3c0000-0000-4000-8000-000000000000").message).toBe(
      "session not found: 7f3c0000-0000-4000-8000-000000000000",
    );
  });

  it("no message is longer than MAX_ERROR_MESSAGE_CHARS, whoever builds it", () => {
    const error = ChatbotError.invalidArgument(`bad: ${"x".repeat(50_000)}`);
    expect(error.message.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(error.message.endsWith("…")).toBe(true);
    expect(ChatbotError.upstream("y".repeat(MAX_ERROR_MESSAGE_CHARS)).message).toBe(
      "y".repeat(MAX_ERROR_MESSAGE_CHARS),
    );
  });
});
