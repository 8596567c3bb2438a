import { MemorySessionStore, type SessionRecord } from "@chatgptchatbot/core";
import { sessionConfig } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { InstrumentedSessionStore, type StoreObserver } from "./instrumented-store.js";

const record = (id: string): SessionRecord => ({
  id,
  config: sessionConfig(),
  initialPrompt: "",
  initialResponse: "",
  systemTokens: 0,
  history: [],
  conversation: null,
  createdAt: 0,
  conversationStartedAt: 0,
  lastActiveAt: 0,
});

describe("InstrumentedSessionStore", () => {
  it("reports each operation with its duration; a throw is an error, a not-found write is not", async () => {
    const seen: Parameters<StoreObserver>[0][] = [];
    const store = new InstrumentedSessionStore({ store: new MemorySessionStore(), observe: (info) => seen.push(info) });
    await store.create(record("a"));
    await expect(store.create(record("a"))).rejects.toThrow(/exists/);
    expect(await store.appendTurn("missing", 1, { drop: 0, append: [], conversation: null, lastActiveAt: 1 })).toBe(
      "not-found",
    );
    expect(await store.size()).toBe(1);
    expect(seen.map(({ operation, ok }) => [operation, ok])).toEqual([
      ["create", true],
      ["create", false],
      ["appendTurn", true],
      ["size", true],
    ]);
    for (const info of seen) expect(info.seconds).toBeGreaterThanOrEqual(0);
  });

  it("an observer that throws changes nothing", async () => {
    const store = new InstrumentedSessionStore({
      store: new MemorySessionStore(),
      observe: () => {
        throw new Error("metrics broke");
      },
    });
    await store.create(record("b"));
    expect((await store.get("b"))?.id).toBe("b");
  });
});
