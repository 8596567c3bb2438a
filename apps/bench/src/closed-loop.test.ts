import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runClosedLoop } from "./closed-loop.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

const after = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("runClosedLoop", () => {
  it("counts what finishes inside the window, per worker in a closed loop", async () => {
    const edges: string[] = [];
    const seen = new Set<number>();
    const run = runClosedLoop({
      concurrency: 4,
      warmupMs: 100,
      durationMs: 1000,
      call: async (worker) => {
        seen.add(worker);
        await after(10);
        return { queued: 1 };
      },
      onWindow: (edge) => edges.push(edge),
    });
    await vi.advanceTimersByTimeAsync(1200);
    const result = await run;
    expect(edges).toEqual(["start", "end"]);
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    // 4 workers, one request per 10 ms each, for 1000 ms.
    expect(result.requests).toBeGreaterThanOrEqual(396);
    expect(result.requests).toBeLessThanOrEqual(404);
    expect(result.requestsPerSecond).toBeCloseTo(result.requests, -1);
    expect(result.latency.p50Ms).toBeCloseTo(10, 5);
    expect(result.extra.queued?.count).toBe(result.requests);
    expect(result.errors).toBe(0);
  });

  it("stops after too many errors and reports the first", async () => {
    let n = 0;
    const run = runClosedLoop({
      concurrency: 2,
      warmupMs: 0,
      durationMs: 10_000,
      maxErrors: 5,
      call: async () => {
        await after(1);
        throw new Error(`boom ${++n}`);
      },
    });
    await vi.advanceTimersByTimeAsync(100);
    const result = await run;
    expect(result.errors).toBeGreaterThanOrEqual(5);
    expect(result.firstError).toBe("boom 1");
    expect(result.requests).toBe(0);
  });

  it("rejects a concurrency that is not a positive whole number", async () => {
    await expect(runClosedLoop({ concurrency: 0, warmupMs: 0, durationMs: 1, call: async () => {} })).rejects.toThrow(
      RangeError,
    );
  });
});
