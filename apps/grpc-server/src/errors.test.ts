import { ChatbotError, ErrorCode, MAX_ERROR_MESSAGE_CHARS } from "@chatgptchatbot/core";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { GRPC_CODES, toConnectError } from "./errors.js";
import type { RetryInfoSchema } from "./retry-info.js";

describe("GRPC_CODES", () => {
  it.each([
    [ErrorCode.InvalidArgument, Code.InvalidArgument, 3],
    [ErrorCode.TooManySessions, Code.ResourceExhausted, 8],
    [ErrorCode.SessionNotFound, Code.NotFound, 5],
    [ErrorCode.Cooldown, Code.ResourceExhausted, 8],
    [ErrorCode.Upstream, Code.Unavailable, 14],
    [ErrorCode.Unavailable, Code.Unavailable, 14],
    [ErrorCode.Aborted, Code.Canceled, 1],
    [ErrorCode.Internal, Code.Internal, 13],
  ])("%s → %i (google.rpc.Code %i)", (code, connect, number) => {
    expect(GRPC_CODES[code]).toBe(connect);
    expect(GRPC_CODES[code] as number).toBe(number);
  });

  it("covers every code of core", () => {
    expect(Object.keys(GRPC_CODES).sort()).toEqual(Object.values(ErrorCode).sort());
  });
});

describe("toConnectError", () => {
  it("takes every ChatbotError's code from the table and keeps its message", () => {
    const cases: [ChatbotError, Code][] = [
      [ChatbotError.invalidArgument("version & access_token|api_key is required: x"), Code.InvalidArgument],
      [ChatbotError.tooManySessions(2), Code.ResourceExhausted],
      [ChatbotError.sessionNotFound("abc"), Code.NotFound],
      [ChatbotError.cooldown(14_200), Code.ResourceExhausted],
      [ChatbotError.upstream("the upstream answered 500"), Code.Unavailable],
      [ChatbotError.aborted(), Code.Canceled],
    ];
    for (const [error, code] of cases) {
      const out = toConnectError(error);
      expect(out.code).toBe(code);
      expect(out.code).toBe(GRPC_CODES[error.code]);
      expect(out.rawMessage).toBe(error.message);
      expect(out.cause).toBe(error);
    }
  });

  it("says the seconds to wait and attaches a google.rpc.RetryInfo for a cooldown", () => {
    const out = toConnectError(ChatbotError.cooldown(14_200));
    expect(out.rawMessage).toBe("cooling down: try again in 15 s");
    expect(out.details).toHaveLength(1);
    const detail = out.details[0] as {
      desc: typeof RetryInfoSchema;
      value: { retryDelay: { seconds: bigint; nanos: number } };
    };
    expect(detail.desc.typeName).toBe("google.rpc.RetryInfo");
    expect(detail.value.retryDelay.seconds).toBe(14n);
    expect(detail.value.retryDelay.nanos).toBe(200_000_000);
  });

  it("attaches no detail when there is nothing to wait for", () => {
    expect(toConnectError(ChatbotError.sessionNotFound("x")).details).toEqual([]);
  });

  it("turns anything unforeseen into INTERNAL with a generic message, never UNKNOWN or the original text", () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'sk-test-secret-key-1234')");
    const out = toConnectError(bug);
    expect(out.code).toBe(Code.Internal);
    expect(out.rawMessage).toBe("internal error");
    expect(out.message).not.toContain("sk-test");
    expect((out.cause as ChatbotError).code).toBe(ErrorCode.Internal);
    expect((out.cause as ChatbotError).cause).toBe(bug);
    expect(toConnectError("a string").code).toBe(Code.Internal);
  });

  it("turns an AbortError into CANCELED", () => {
    const abort = Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
    expect(toConnectError(abort).code).toBe(Code.Canceled);
  });

  it("cuts a ConnectError's message that would not fit in gRPC metadata, keeping its code", () => {
    const long = new ConnectError(`unknown thing ${"z".repeat(100_000)}`, Code.NotFound);
    const out = toConnectError(long);
    expect(out.code).toBe(Code.NotFound);
    expect(out.rawMessage.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(toConnectError(ChatbotError.invalidArgument("w".repeat(100_000))).rawMessage.length).toBe(
      MAX_ERROR_MESSAGE_CHARS,
    );
  });

  it("passes a ConnectError raised by Connect itself through", () => {
    const deadline = new ConnectError("the operation timed out", Code.DeadlineExceeded);
    expect(toConnectError(deadline)).toBe(deadline);
  });
});
