import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { UNDECLARED_COMPRESSION, undecodableRequestGate } from "./undecodable-request.js";

/** The part of a HandlerContext the gate uses: its signal, aborted as connect-es aborts it. */
function contextAbortedWith(reason: unknown): void {
  const controller = new AbortController();
  undecodableRequestGate({ signal: controller.signal } as HandlerContext);
  controller.abort(reason);
}

describe("undecodableRequestGate", () => {
  it("turns connect-es's INTERNAL for a body that is not protobuf into INVALID_ARGUMENT", () => {
    const error = new ConnectError("parse binary: illegal tag: field no 0 wire type 0", Code.Internal);
    contextAbortedWith(error);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("parse binary: illegal tag: field no 0 wire type 0");
  });

  it("does the same for a message flagged compressed in a request that declared no compression", () => {
    const error = new ConnectError(UNDECLARED_COMPRESSION, Code.Internal);
    contextAbortedWith(error);
    expect(error.code).toBe(Code.InvalidArgument);
  });

  it("leaves every other error alone: the server's own INTERNAL, other codes, non-errors", () => {
    const serialize = new ConnectError("serialize binary: oops", Code.Internal);
    const bug = new ConnectError("internal error", Code.Internal);
    const cancelled = new ConnectError("parse binary: cancelled", Code.Canceled);
    for (const error of [serialize, bug, cancelled]) contextAbortedWith(error);
    expect([serialize.code, bug.code, cancelled.code]).toEqual([Code.Internal, Code.Internal, Code.Canceled]);
    expect(() => contextAbortedWith(undefined)).not.toThrow();
  });
});
