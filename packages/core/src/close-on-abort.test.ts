import { describe, expect, it } from "vitest";
import { closeOnAbort } from "./close-on-abort.js";
import { ErrorCode } from "./errors.js";

/** A generator that records whether its `finally` ran. */
function tracked(): { source: AsyncGenerator<number, void, undefined>; state: { closed: boolean } } {
  const state = { closed: false };
  const source = (async function* () {
    try {
      yield 1;
      yield 2;
    } finally {
      state.closed = true;
    }
  })();
  return { source, state };
}

describe("closeOnAbort", () => {
  it("closes the source when the signal aborts while its consumer no longer pulls", async () => {
    const { source, state } = tracked();
    const controller = new AbortController();
    const stream = closeOnAbort(source, controller.signal);
    expect((await stream.next()).value).toBe(1);
    expect(state.closed).toBe(false);
    controller.abort();
    await expect.poll(() => state.closed).toBe(true);
  });

  it("tells a consumer that pulls again after the abort that it was aborted (Aborted), not that the stream ended", async () => {
    const { source, state } = tracked();
    const controller = new AbortController();
    const stream = closeOnAbort(source, controller.signal);
    expect((await stream.next()).value).toBe(1);
    controller.abort();
    await expect.poll(() => state.closed).toBe(true);
    await expect(stream.next()).rejects.toMatchObject({ code: ErrorCode.Aborted });
  });

  it("passes every value through and leaves a source alone when the signal never aborts", async () => {
    const { source, state } = tracked();
    const values: number[] = [];
    for await (const value of closeOnAbort(source, new AbortController().signal)) values.push(value);
    expect(values).toEqual([1, 2]);
    expect(state.closed).toBe(true);
  });

  it("returns the source itself without a signal or with one already aborted (the source reports that abort)", () => {
    const { source } = tracked();
    expect(closeOnAbort(source, undefined)).toBe(source);
    expect(closeOnAbort(source, AbortSignal.abort())).toBe(source);
  });
});
