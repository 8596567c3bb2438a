import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { API_KEY } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { decideUpstreamRetry, upstreamFailure } from "./upstream-failure.js";

const live = new AbortController().signal;
const onTime = { timedOut: false, message: "the upstream timed out after 1 s" };
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("upstreamFailure", () => {
  it("is Aborted when the caller gave up, whatever was thrown, keeping an Aborted error as it is", () => {
    const controller = new AbortController();
    controller.abort();
    const context = { credential: API_KEY, signal: controller.signal, deadline: { ...onTime, timedOut: true } };
    expect(upstreamFailure(new Error("x"), context).code).toBe(ErrorCode.Aborted);
    const aborted = ChatbotError.aborted();
    expect(upstreamFailure(aborted, context)).toBe(aborted);
  });

  it("gives the deadline's reason for a timed-out attempt", () => {
    const timedOut = upstreamFailure(new Error("aborted"), {
      credential: API_KEY,
      signal: live,
      deadline: { ...onTime, timedOut: true },
    });
    expect(timedOut.message).toBe("the upstream timed out after 1 s");
  });

  it("keeps a ChatbotError, reads transport failures, else Internal without the credential", () => {
    const context = { credential: API_KEY, signal: live, deadline: onTime };
    const answered = ChatbotError.upstream("the upstream answered 502: bad", { status: 502 });
    expect(upstreamFailure(answered, context)).toBe(answered);
    expect(upstreamFailure(coded("ECONNRESET"), context).message).toBe(
      "the upstream connection closed before the reply was complete (ECONNRESET)",
    );
    const bug = upstreamFailure(new Error(`bad key ${API_KEY}`), context);
    expect(bug.code).toBe(ErrorCode.Internal);
    expect(String((bug.cause as Error).message)).not.toContain(API_KEY);
  });
});

describe("decideUpstreamRetry", () => {
  it("retries 429 and 5xx answers with their Retry-After, not other statuses", () => {
    expect(decideUpstreamRetry(ChatbotError.upstream("x", { status: 429, retryAfterMs: 30 }))).toEqual({
      retry: true,
      retryAfterMs: 30,
    });
    expect(decideUpstreamRetry(ChatbotError.upstream("x", { status: 503 }))).toEqual({
      retry: true,
      retryAfterMs: undefined,
    });
    expect(decideUpstreamRetry(ChatbotError.upstream("x", { status: 401 }))).toEqual({ retry: false });
  });

  it("retries refused connections, not TLS failures nor anything else", () => {
    expect(decideUpstreamRetry(coded("ECONNREFUSED"))).toEqual({ retry: true });
    expect(decideUpstreamRetry(coded("ERR_TLS_CERT_ALTNAME_INVALID"))).toEqual({ retry: false });
    expect(decideUpstreamRetry(new Error("odd"))).toEqual({ retry: false });
  });
});
