import { MemorySessionStore, type SessionStore, type TurnWrite, type WriteOutcome } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { benchRecord, fillStore, turnCpu } from "./store-bench.js";

/**
 * The memory store, each turn's write taking one `setImmediate` (as the
 * SQLite store's group commit does), recording which sessions are being
 * written at once.
 */
function watchedStore(): { store: SessionStore; mostAtOnce: () => number; sameSessionTwice: () => boolean } {
  const inner = new MemorySessionStore();
  const writing = new Set<string>();
  let most = 0;
  let twice = false;
  const store: SessionStore = {
    get: (id) => inner.get(id),
    create: (record) => inner.create(record),
    renew: (id, fence, fresh) => inner.renew(id, fence, fresh),
    delete: (id) => inner.delete(id),
    size: () => inner.size(),
    list: () => inner.list(),
    async appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome> {
      if (writing.has(id)) twice = true;
      writing.add(id);
      most = Math.max(most, writing.size);
      await new Promise((resolve) => setImmediate(resolve));
      writing.delete(id);
      return inner.appendTurn(id, fence, turn);
    },
  };
  return { store, mostAtOnce: () => most, sameSessionTwice: () => twice };
}

describe("turnCpu", () => {
  it("runs `concurrency` chats at once, never two of one session", async () => {
    const { store, mostAtOnce, sameSessionTwice } = watchedStore();
    await fillStore(store, { sessions: 40, turns: 2 });
    expect(await turnCpu(store, { sessions: 40, turns: 400, concurrency: 16 })).toBeGreaterThan(0);
    expect(mostAtOnce()).toBe(16);
    expect(sameSessionTwice()).toBe(false);
    // Every session was chatted with (its last reply is a bench turn's, not a filled one's "… (t)"):
    // the workers cover all of them between them.
    for (let i = 0; i < 40; i++) {
      expect((await store.get(benchRecord(i, 0, 0).id))!.history.at(-1)!.content).not.toMatch(/\(\d+\)$/);
    }
  });

  it("runs one chat at a time by default", async () => {
    const { store, mostAtOnce } = watchedStore();
    await fillStore(store, { sessions: 5, turns: 1 });
    await turnCpu(store, { sessions: 5, turns: 50 });
    expect(mostAtOnce()).toBe(1);
  });

  it("refuses more chats at once than sessions", async () => {
    const store = new MemorySessionStore();
    await expect(turnCpu(store, { sessions: 4, turns: 10, concurrency: 5 })).rejects.toThrow(RangeError);
  });
});
