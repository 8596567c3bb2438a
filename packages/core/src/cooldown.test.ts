import { describe, expect, it } from "vitest";
import { Cooldown } from "./cooldown.js";

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("Cooldown", () => {
  it("refuses a second request on the same credential within the interval, saying how long to wait", () => {
    const c = clock();
    const cooldown = new Cooldown({ now: c.now });
    expect(cooldown.acquire(["sk-test-a"], 15_000)).toEqual({ ok: true, credential: "sk-test-a" });
    c.advance(5_000);
    expect(cooldown.acquire(["sk-test-a"], 15_000)).toEqual({ ok: false, retryAfterMs: 10_000 });
    c.advance(10_000);
    expect(cooldown.acquire(["sk-test-a"], 15_000)).toEqual({ ok: true, credential: "sk-test-a" });
  });

  it("never lets one credential slow another", () => {
    const c = clock();
    const cooldown = new Cooldown({ now: c.now });
    expect(cooldown.acquire(["sk-test-a"], 15_000).ok).toBe(true);
    expect(cooldown.acquire(["sk-test-b"], 15_000).ok).toBe(true);
    expect(cooldown.acquire(["sk-test-a"], 15_000).ok).toBe(false);
  });

  it("takes the first credential of a list that is not cooling down", () => {
    const c = clock();
    const cooldown = new Cooldown({ now: c.now });
    const keys = ["sk-test-1", "sk-test-2", "sk-test-3"];
    expect(cooldown.acquire(keys, 10_000)).toEqual({ ok: true, credential: "sk-test-1" });
    c.advance(1_000);
    expect(cooldown.acquire(keys, 10_000)).toEqual({ ok: true, credential: "sk-test-2" });
    c.advance(1_000);
    expect(cooldown.acquire(keys, 10_000)).toEqual({ ok: true, credential: "sk-test-3" });
    c.advance(1_000);
    // All three cooling: the soonest (sk-test-1, used 3 s ago) is free in 7 s.
    expect(cooldown.acquire(keys, 10_000)).toEqual({ ok: false, retryAfterMs: 7_000 });
  });

  it("is disabled by an interval of 0", () => {
    const cooldown = new Cooldown({ now: () => 0 });
    for (let i = 0; i < 5; i++) expect(cooldown.acquire(["sk-test-a"], 0).ok).toBe(true);
  });

  it("prunes idle credentials", () => {
    const c = clock();
    const cooldown = new Cooldown({ now: c.now });
    cooldown.acquire(["sk-test-a"], 1_000);
    c.advance(500);
    cooldown.acquire(["sk-test-b"], 1_000);
    c.advance(1_000);
    cooldown.prune(1_200);
    expect(cooldown.size).toBe(1);
  });
});
