import { describe, expect, it } from "vitest";
import { backoffDelayMs, MAX_RETRY_AFTER_MS, parseRetryAfter, type RetryDecision, withRetries } from "./retry.js";

function harness(decide: (error: unknown) => RetryDecision, maxRetries = 2) {
  const delays: number[] = [];
  const signal = new AbortController().signal;
  return {
    delays,
    options: {
      maxRetries,
      signal,
      decide,
      sleep: async (ms: number) => {
        delays.push(ms);
      },
      random: () => 0,
    },
  };
}

describe("withRetries", () => {
  it("returns the first success", async () => {
    const { options, delays } = harness(() => ({ retry: true }));
    let calls = 0;
    await expect(withRetries(async () => ++calls, options)).resolves.toBe(1);
    expect(delays).toEqual([]);
  });

  it("retries a retryable failure with doubling backoff and stops at the bound", async () => {
    const { options, delays } = harness(() => ({ retry: true }), 3);
    let calls = 0;
    const failure = new Error("503");
    await expect(
      withRetries(async () => {
        calls++;
        throw failure;
      }, options),
    ).rejects.toBe(failure);
    expect(calls).toBe(4);
    expect(delays).toEqual([500, 1000, 2000]);
  });

  it("waits for the upstream's Retry-After instead of the backoff", async () => {
    const { options, delays } = harness(() => ({ retry: true, retryAfterMs: 1500 }));
    let calls = 0;
    await withRetries(async () => {
      if (++calls < 2) throw new Error("429");
      return "ok";
    }, options);
    expect(delays).toEqual([1500]);
  });

  it("does not wait for a Retry-After beyond the limit: the failure is reported at once", async () => {
    const { options, delays } = harness(() => ({ retry: true, retryAfterMs: MAX_RETRY_AFTER_MS + 1 }));
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw new Error("429");
      }, options),
    ).rejects.toThrow("429");
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it("does not retry a final failure", async () => {
    const { options } = harness(() => ({ retry: false }));
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw new Error("401");
      }, options),
    ).rejects.toThrow("401");
    expect(calls).toBe(1);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withRetries(
      async () => {
        calls++;
        throw new Error("503");
      },
      {
        maxRetries: 5,
        signal: controller.signal,
        decide: () => ({ retry: true, retryAfterMs: 30_000 }),
        onRetry: () => queueMicrotask(() => controller.abort()),
      },
    );
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(calls).toBe(1);
  });

  it("does not start another attempt once the signal is aborted", async () => {
    const controller = new AbortController();
    let calls = 0;
    const failure = new Error("503");
    const run = withRetries(
      async () => {
        calls++;
        controller.abort();
        throw failure;
      },
      { maxRetries: 5, signal: controller.signal, decide: () => ({ retry: true }) },
    );
    await expect(run).rejects.toBe(failure);
    expect(calls).toBe(1);
  });
});

describe("backoffDelayMs", () => {
  it("doubles from 500 ms to a cap of 8 s, with at most 25 % jitter off", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    expect(backoffDelayMs(0, () => 0.999)).toBeGreaterThanOrEqual(375);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds, milliseconds and HTTP dates from Headers or plain objects", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfter(new Headers({ "retry-after": "0" }))).toBe(0);
    expect(parseRetryAfter({ "retry-after-ms": "250", "retry-after": "9" })).toBe(250);
    expect(parseRetryAfter({ "retry-after": ["3"] })).toBe(3000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }, now)).toBe(5000);
  });

  it("is undefined when absent or unreadable", () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(new Headers())).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined();
  });
});
