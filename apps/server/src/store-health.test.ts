import { afterEach, describe, expect, it, vi } from "vitest";
import { watchStoreHealth } from "./store-health.js";

afterEach(() => vi.useRealTimers());

describe("watchStoreHealth", () => {
  it("reports each turn of readiness once, at the next look, and nothing after stop", () => {
    vi.useFakeTimers();
    let ready = true;
    const changes: boolean[] = [];
    const watch = watchStoreHealth({ isReady: () => ready, onChange: (now) => changes.push(now), intervalMs: 1_000 });
    vi.advanceTimersByTime(3_000);
    expect(changes).toEqual([]);
    ready = false;
    vi.advanceTimersByTime(999);
    expect(watch.ready()).toBe(true);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([false]);
    expect(watch.ready()).toBe(false);
    vi.advanceTimersByTime(5_000);
    expect(changes).toEqual([false]);
    ready = true;
    vi.advanceTimersByTime(1_000);
    expect(changes).toEqual([false, true]);
    watch.stop();
    ready = false;
    vi.advanceTimersByTime(5_000);
    expect(changes).toEqual([false, true]);
  });
});
