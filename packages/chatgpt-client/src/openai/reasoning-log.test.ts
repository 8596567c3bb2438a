import { describe, expect, it } from "vitest";
import { MAX_LOGGED_REASONING_CHARS, ReasoningLog } from "./reasoning-log.js";

describe("ReasoningLog", () => {
  it("keeps short reasoning whole", () => {
    const log = new ReasoningLog();
    log.add("用户在打招呼。");
    log.add("I should answer warmly.");
    expect(log.summary()).toEqual({ reasoning: "用户在打招呼。I should answer warmly.", reasoningChars: 30 });
  });

  it("keeps only the head of long reasoning, marks the cut, and counts it all", () => {
    const log = new ReasoningLog();
    for (let i = 0; i < 1_000; i++) log.add("thinking hard. ");
    const { reasoning, reasoningChars } = log.summary();
    expect(reasoningChars).toBe(15_000);
    expect(reasoning).toHaveLength(MAX_LOGGED_REASONING_CHARS + 1);
    expect(reasoning.endsWith("…")).toBe(true);
    expect(reasoning.startsWith("thinking hard. thinking hard.")).toBe(true);
  });
});
