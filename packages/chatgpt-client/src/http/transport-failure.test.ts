import { describe, expect, it } from "vitest";
import { formatSeconds, transportFailure } from "./transport-failure.js";

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
const wrapped = (cause: Error) => new TypeError("fetch failed", { cause });

describe("transportFailure", () => {
  it("recognises undici and system errors anywhere in the cause chain", () => {
    expect(transportFailure(wrapped(wrapped(coded("ECONNREFUSED"))))).toEqual({
      kind: "connect",
      reason: "could not connect to the upstream (ECONNREFUSED)",
      retryable: true,
    });
    expect(transportFailure(coded("ECONNREFUSED"))).toMatchObject({ kind: "connect", retryable: true });
    expect(transportFailure(coded("UND_ERR_SOCKET", "other side closed"))).toMatchObject({
      kind: "closed",
      retryable: true,
    });
    expect(transportFailure(coded("ERR_SSL_WRONG_VERSION_NUMBER"))).toMatchObject({ kind: "tls", retryable: false });
    expect(
      transportFailure(coded("UND_ERR_ABORTED", "Proxy response (403) !== 200 when HTTP Tunneling")),
    ).toMatchObject({
      kind: "proxy",
      retryable: false,
    });
    expect(transportFailure(coded("EWHATEVER"))).toMatchObject({
      kind: "network",
      reason: "the request to the upstream failed (EWHATEVER)",
    });
  });

  it("leaves everything else alone: bugs and plain errors are not transport failures", () => {
    expect(transportFailure(new Error("boom"))).toBeUndefined();
    expect(transportFailure(coded("UND_ERR_INVALID_ARG"))).toBeUndefined();
    expect(transportFailure("not an error")).toBeUndefined();
  });
});

describe("formatSeconds", () => {
  it("reads naturally", () => {
    expect([150, 1000, 1500, 60_000].map(formatSeconds)).toEqual(["150 ms", "1 s", "1.5 s", "60 s"]);
  });
});
