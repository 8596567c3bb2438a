import { describe, expect, it } from "vitest";
import { fitHistory, type HistoryEntry } from "./history.js";

const turn = (q: number, a: number): HistoryEntry[] => [
  { role: "user", content: `q${q}`, tokens: q },
  { role: "assistant", content: `a${a}`, tokens: a },
];

describe("fitHistory", () => {
  const history = [...turn(10, 20), ...turn(30, 40), ...turn(50, 60)]; // 210 tokens

  it("keeps everything when it fits exactly at the budget", () => {
    expect(fitHistory(history, 90, 300)).toBe(0); // 90 + 210 = 300
  });

  it("drops the oldest whole turn when one token over", () => {
    expect(fitHistory(history, 91, 300)).toBe(2); // 301 > 300: drop q10+a20 → 271
  });

  it("drops turns oldest first until it fits", () => {
    expect(fitHistory(history, 80, 200)).toBe(4); // 290 → 260 → 190: the newest turn stays
  });

  it("drops everything when even the newest turn does not fit", () => {
    expect(fitHistory(history, 250, 300)).toBe(6);
  });

  it("never keeps an assistant reply without its question", () => {
    const odd: HistoryEntry[] = [{ role: "assistant", content: "greeting", tokens: 5 }, ...turn(10, 10)];
    expect(fitHistory(odd, 0, 20)).toBe(1);
    expect(odd[fitHistory(odd, 0, 20)]!.role).toBe("user");
  });
});
