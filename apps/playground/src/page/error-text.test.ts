import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeError, HOST_HINT, NETWORK_HINT, retryInfoSeconds, TOKEN_HINT } from "./error-text.js";

/** google.rpc.RetryInfo { retry_delay: Duration { seconds, nanos } } */
function retryInfo(seconds: number, nanos = 0): Uint8Array {
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) writer.tag(2, WireType.Varint).int32(nanos);
  return writer.join().finish();
}

describe("describeError", () => {
  it("shows [code_name] and the server's message", () => {
    const view = describeError(new ConnectError("session not found: abc", Code.NotFound));
    expect(view).toMatchObject({ code: Code.NotFound, codeName: "not_found", message: "session not found: abc" });
    expect(view.text).toBe("[not_found] session not found: abc");
    expect(view.retryAfterSeconds).toBeUndefined();
  });

  it("reads the seconds left from a cooldown message", () => {
    const view = describeError(new ConnectError("cooling down: try again in 14 s", Code.ResourceExhausted));
    expect(view.text).toBe("[resource_exhausted] cooling down: try again in 14 s");
    expect(view.retryAfterSeconds).toBe(14);
  });

  it("prefers a google.rpc.RetryInfo detail, rounded up", () => {
    const error = new ConnectError("cooling down: try again in 14 s", Code.ResourceExhausted);
    error.details.push({ type: "google.rpc.RetryInfo", value: retryInfo(3, 200_000_000) });
    expect(describeError(error).retryAfterSeconds).toBe(4);
  });

  it("says what to do about a missing token and a refused host name", () => {
    expect(describeError(new ConnectError("needs a token", Code.Unauthenticated)).hint).toBe(TOKEN_HINT);
    expect(describeError(new ConnectError("", Code.PermissionDenied)).hint).toBe(HOST_HINT);
    expect(describeError(new ConnectError("gone", Code.NotFound)).hint).toBeUndefined();
  });

  it("turns anything else into [unknown] without crashing", () => {
    expect(describeError("boom")).toMatchObject({ codeName: "unknown", text: "[unknown] boom", hint: undefined });
  });

  it("adds a hint when the call never got an answer (fetch's TypeError, as connect-web wraps it)", () => {
    const view = describeError(ConnectError.from(new TypeError("Failed to fetch")));
    expect(view.text).toBe("[unknown] Failed to fetch");
    expect(view.hint).toBe(NETWORK_HINT);
    expect(describeError(new TypeError("Load failed")).hint).toBe(NETWORK_HINT);
    expect(describeError(new ConnectError("boom", Code.Internal)).hint).toBeUndefined();
  });

  it("names a code with an empty message by its code alone", () => {
    expect(describeError(new ConnectError("", Code.Unavailable)).text).toBe("[unavailable]");
  });
});

describe("retryInfoSeconds", () => {
  it("decodes the delay and skips unknown fields", () => {
    expect(retryInfoSeconds(retryInfo(15))).toBe(15);
    const withExtra = new BinaryWriter().tag(7, WireType.Varint).int32(1).raw(retryInfo(2, 500_000_000)).finish();
    expect(retryInfoSeconds(withExtra)).toBe(2.5);
  });

  it("gives undefined for bytes that are not a RetryInfo", () => {
    expect(retryInfoSeconds(new Uint8Array([0x0a, 0x05, 0x01]))).toBeUndefined();
    expect(retryInfoSeconds(new Uint8Array())).toBeUndefined();
  });
});
