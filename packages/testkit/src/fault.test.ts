import { describe, expect, it } from "vitest";
import { FaultQueue } from "./fault.js";

describe("FaultQueue", () => {
  it("hands faults out first in, first out, then nothing", () => {
    const queue = new FaultQueue();
    queue.enqueue({ kind: "hang" }, { kind: "cut" });
    queue.enqueue({ kind: "malformed" }, { kind: "error-event" }, { kind: "unterminated" });
    expect([queue.next(), queue.next(), queue.next(), queue.next(), queue.next(), queue.next()]).toEqual([
      { kind: "hang" },
      { kind: "cut" },
      { kind: "malformed" },
      { kind: "error-event" },
      { kind: "unterminated" },
      undefined,
    ]);
  });

  it("rejects faults that cannot be played, and queues none of the batch", () => {
    const queue = new FaultQueue();
    expect(() => queue.enqueue({ kind: "cut" }, { kind: "status", status: 42 })).toThrow(RangeError);
    expect(() => queue.enqueue({ kind: "status", status: 429, retryAfter: -1 })).toThrow(RangeError);
    expect(() => queue.enqueue({ kind: "trickle", intervalMs: Number.NaN })).toThrow(RangeError);
    expect(queue.size).toBe(0);
  });
});
