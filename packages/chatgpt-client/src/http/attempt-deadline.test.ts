import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AttemptDeadline } from "./attempt-deadline.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("AttemptDeadline", () => {
  it("aborts the attempt when its time is up, with a TimeoutError, and says so", () => {
    const deadline = new AttemptDeadline({ signal: new AbortController().signal, timeoutMs: 60_000 });
    const signal = deadline.start();
    vi.advanceTimersByTime(59_999);
    expect(signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: "TimeoutError", message: "the upstream timed out after 60 s" });
    expect(deadline.timedOut).toBe(true);
    expect(deadline.message).toBe("the upstream timed out after 60 s");
  });

  it("passes the caller's abort on with the caller's reason: not a timeout", () => {
    const caller = new AbortController();
    const deadline = new AttemptDeadline({ signal: caller.signal, timeoutMs: 1000 });
    const signal = deadline.start();
    caller.abort("client went away");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("client went away");
    vi.advanceTimersByTime(5000);
    expect(deadline.timedOut).toBe(false);
  });

  it("an attempt started under an already aborted caller is aborted at once", () => {
    const deadline = new AttemptDeadline({ signal: AbortSignal.abort("gone"), timeoutMs: 1000 });
    const signal = deadline.start();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("gone");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("each start gives a fresh attempt the whole time and ends the previous one", () => {
    const caller = new AbortController();
    const deadline = new AttemptDeadline({ signal: caller.signal, timeoutMs: 1000 });
    const first = deadline.start();
    vi.advanceTimersByTime(800);
    const second = deadline.start();
    vi.advanceTimersByTime(800);
    expect(first.aborted).toBe(false); // its timer was cleared
    expect(second.aborted).toBe(false);
    caller.abort();
    expect(first.aborted).toBe(false); // no longer listening to the caller
    expect(second.aborted).toBe(true);
  });

  it("end() stops the timer and the caller's listener; abort() closes without being a timeout", () => {
    const caller = new AbortController();
    const deadline = new AttemptDeadline({ signal: caller.signal, timeoutMs: 1000 });
    const ended = deadline.start();
    deadline.end();
    expect(vi.getTimerCount()).toBe(0);
    caller.abort();
    vi.advanceTimersByTime(2000);
    expect(ended.aborted).toBe(false);

    const other = new AttemptDeadline({ signal: new AbortController().signal, timeoutMs: 1000 });
    const left = other.start();
    other.abort();
    expect(left.aborted).toBe(true);
    expect(other.timedOut).toBe(false);
  });
});
