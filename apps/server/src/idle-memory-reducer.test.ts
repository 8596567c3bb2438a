import { getHeapSpaceStatistics } from "node:v8";
import { recordingLogger } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BUSY_UTILIZATION, memoryReducingGc, START_QUIET_MS, startIdleMemoryReducer } from "./idle-memory-reducer.js";

const BUSY = 0.9;
/** What the fuzz suite's health checks every 25 ms cost the loop on this machine: quiet. */
const QUIET = 0.2;

/** A reducer whose utilization follows `script` (one value per 5 s check; the last one repeats). */
function scripted(script: number[], idleAfterMs = 30_000) {
  const collect = vi.fn();
  const logger = recordingLogger();
  let i = 0;
  const reducer = startIdleMemoryReducer({
    idleAfterMs,
    logger,
    collect,
    startQuietMs: idleAfterMs,
    checkEveryMs: 5_000,
    utilization: () => script[Math.min(i++, script.length - 1)]!,
  });
  return { collect, logger, reducer };
}

const times = (n: number, value: number): number[] => Array.from({ length: n }, () => value);

describe("startIdleMemoryReducer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("never collects while the server stays busy", () => {
    const { collect, reducer } = scripted([BUSY]);
    vi.advanceTimersByTime(10 * 60_000);
    expect(collect).not.toHaveBeenCalled();
    reducer.stop();
  });

  it("collects once after idleAfterMs of quiet, not before, and not again until the next busy spell", () => {
    // 1 min busy, 5 min quiet, 10 s busy, then quiet.
    const { collect, logger, reducer } = scripted([...times(12, BUSY), ...times(60, QUIET), BUSY, BUSY, QUIET]);
    vi.advanceTimersByTime(60_000 + 25_000);
    expect(collect).not.toHaveBeenCalled(); // 25 s of quiet
    vi.advanceTimersByTime(5_000);
    expect(collect).toHaveBeenCalledTimes(1); // 30 s
    vi.advanceTimersByTime(270_000); // to the end of the 5 quiet minutes
    expect(collect).toHaveBeenCalledTimes(1); // still quiet: nothing new to give back
    vi.advanceTimersByTime(10_000 + 25_000);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5_000);
    expect(collect).toHaveBeenCalledTimes(2);
    expect(logger.lines.filter((l) => l.msg === "idle: heap given back to the system").map((l) => l.level)).toEqual([
      "debug",
      "debug",
    ]);
    reducer.stop();
  });

  it("after the start, collects once the program has been quiet for START_QUIET_MS, then after idleAfterMs", () => {
    const collect = vi.fn();
    let utilization = QUIET;
    const reducer = startIdleMemoryReducer({
      idleAfterMs: 30_000,
      logger: recordingLogger(),
      collect,
      checkEveryMs: 1_000,
      utilization: () => utilization,
    });
    vi.advanceTimersByTime(START_QUIET_MS - 1_000);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(1);
    utilization = BUSY;
    vi.advanceTimersByTime(10_000);
    utilization = QUIET;
    vi.advanceTimersByTime(29_000);
    expect(collect).toHaveBeenCalledTimes(1); // after a busy spell the quiet time is idleAfterMs again
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(2);
    reducer.stop();
  });

  it("counts quiet from the last busy window: a short burst restarts it", () => {
    const { collect, reducer } = scripted([...times(5, QUIET), BUSY, ...times(5, QUIET), BUSY, QUIET]);
    vi.advanceTimersByTime(12 * 5_000);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(6 * 5_000);
    expect(collect).toHaveBeenCalledTimes(1);
    reducer.stop();
  });

  it("a session call in a window makes it busy, whatever the utilization", () => {
    const { collect, reducer } = scripted([0]);
    const calls = setInterval(() => reducer.noteCall(), 20_000); // a chat every 20 s: never 30 s without one
    vi.advanceTimersByTime(10 * 60_000);
    expect(collect).not.toHaveBeenCalled();
    clearInterval(calls);
    vi.advanceTimersByTime(35_000);
    expect(collect).toHaveBeenCalledTimes(1);
    reducer.stop();
  });

  it("treats utilization at the threshold as busy", () => {
    const { collect, reducer } = scripted([BUSY_UTILIZATION]);
    vi.advanceTimersByTime(5 * 60_000);
    expect(collect).not.toHaveBeenCalled();
    reducer.stop();
  });

  it("does nothing after stop, nor when idleAfterMs is 0", () => {
    const stopped = scripted([QUIET]);
    stopped.reducer.stop();
    const off = scripted([QUIET], 0);
    vi.advanceTimersByTime(10 * 60_000);
    expect(stopped.collect).not.toHaveBeenCalled();
    expect(off.collect).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a failing GC is a warning, not a crash", () => {
    const logger = recordingLogger();
    const reducer = startIdleMemoryReducer({
      idleAfterMs: 5_000,
      logger,
      utilization: () => QUIET,
      collect: () => {
        throw new Error("no gc here");
      },
    });
    vi.advanceTimersByTime(60_000);
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([["warn", "idle memory reducer: the GC failed"]]);
    reducer.stop();
  });
});

describe("memoryReducingGc", () => {
  const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size;

  it("gives back the young generation V8 grew under allocation (what an ordinary GC keeps)", () => {
    // Short-lived garbage at a high rate: V8 grows the semi-spaces towards their maximum.
    let keep: object[] = [];
    for (let i = 0; i < 3_000_000 && newSpace() <= 8 * 2 ** 20; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 2_000) keep = [];
    }
    expect(newSpace()).toBeGreaterThan(8 * 2 ** 20); // the precondition: there is something to give back
    memoryReducingGc();
    expect(newSpace()).toBeLessThanOrEqual(2 * 2 ** 20);
  });
});
