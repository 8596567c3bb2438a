import { describe, expect, it } from "vitest";
import { formatSeconds, transportFailure } from "./transport-failure.js";

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
const wrapped = (cause: Error) => new TypeError("fetch failed", { cause });

describe("transportFailure", () => {
  it("recognises undici and system errors anywhere in the cause chain", () => {
    expect(transportFailure(wrapped(coded("UND_ERR_HEADERS_TIMEOUT")), 60_000)).toEqual({
      kind: "headers-timeout",
      reason: "the upstream did not answer within 60 s",
      retryable: false,
    });
    expect(transportFailure(wrapped(wrapped(coded("UND_ERR_BODY_TIMEOUT"))), 1500)?.reason).toBe("the upstream's reply stalled for 1.5 s");
    expect(transportFailure(coded("ECONNREFUSED"), 1)).toMatchObject({ kind: "connect", retryable: true });
    expect(transportFailure(coded("UND_ERR_SOCKET", "other side closed"), 1)).toMatchObject({ kind: "closed", retryable: true });
    expect(transportFailure(coded("ERR_SSL_WRONG_VERSION_NUMBER"), 1)).toMatchObject({ kind: "tls", retryable: false });
    expect(transportFailure(coded("UND_ERR_ABORTED", "Proxy response (403) !== 200 when HTTP Tunneling"), 1)).toMatchObject({
      kind: "proxy",
      retryable: false,
    });
    expect(transportFailure(coded("EWHATEVER"), 1)).toMatchObject({ kind: "network", reason: "the request to the upstream failed (EWHATEVER)" });
  });

  it("leaves everything else alone: bugs and plain errors are not transport failures", () => {
    expect(transportFailure(new Error("boom"), 1)).toBeUndefined();
    expect(transportFailure(coded("UND_ERR_INVALID_ARG"), 1)).toBeUndefined();
    expect(transportFailure("not an error", 1)).toBeUndefined();
  });
});

describe("formatSeconds", () => {
  it("reads naturally", () => {
    expect([150, 1000, 1500, 60_000].map(formatSeconds)).toEqual(["150 ms", "1 s", "1.5 s", "60 s"]);
  });
});
