import { describe, expect, it } from "vitest";
import { LatencyRecorder, percentile, summarize } from "./stats.js";

describe("percentile", () => {
  it("takes the nearest rank", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 0.5)).toBe(5);
    expect(percentile(sorted, 0.99)).toBe(10);
    expect(percentile(sorted, 0.9)).toBe(9);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 1)).toBe(10);
  });

  it("finds the tail of a large sample", () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.99)).toBe(990);
    expect(percentile(sorted, 0.5)).toBe(500);
  });

  it("is NaN for no samples and rejects a bad quantile", () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });
});

describe("LatencyRecorder", () => {
  it("grows past its initial capacity and summarizes sorted samples", () => {
    const recorder = new LatencyRecorder({ initialCapacity: 2 });
    for (const ms of [5, 1, 4, 2, 3]) recorder.record(ms);
    expect(recorder.count).toBe(5);
    expect([...recorder.sorted()]).toEqual([1, 2, 3, 4, 5]);
    expect(recorder.summary()).toEqual({ count: 5, meanMs: 3, p50Ms: 3, p99Ms: 5, maxMs: 5 });
  });

  it("summarizes nothing as NaN", () => {
    const summary = summarize([]);
    expect(summary.count).toBe(0);
    expect(summary.p50Ms).toBeNaN();
  });
});
