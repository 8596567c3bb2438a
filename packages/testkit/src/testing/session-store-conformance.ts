import type { HistoryEntry, SessionStore } from "@chatgptchatbot/core";
import { afterEach, describe, expect, it } from "vitest";
import { sessionRecord as record } from "./session-record.js";

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: SessionStore;
  close?(): Promise<void> | void;
}

function entry(role: "user" | "assistant", content: string): HistoryEntry {
  return { role, content, tokens: content.length + 4 };
}

/** A record's content as plain JSON, so stores that copy and stores that share compare alike. */
async function read(store: SessionStore, id: string): Promise<unknown> {
  const found = await store.get(id);
  return found === undefined ? undefined : JSON.parse(JSON.stringify(found));
}

/**
 * The contract every {@link SessionStore} keeps, as vitest tests: call it in
 * a test file with a factory that opens a fresh, empty store.
 */
export function describeSessionStoreConformance(
  name: string,
  open: () => Promise<StoreUnderTest> | StoreUnderTest,
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    const opened: StoreUnderTest[] = [];
    async function fresh(): Promise<SessionStore> {
      const underTest = await open();
      opened.push(underTest);
      return underTest.store;
    }
    afterEach(async () => {
      for (const underTest of opened.splice(0)) await underTest.close?.();
    });

    it("creates, reads, counts, lists and deletes records", async () => {
      const store = await fresh();
      expect(await store.size()).toBe(0);
      await store.create(record("a", { conversation: { conversationId: "c1", turn: 1 } }));
      await store.create(record("b"));
      expect(await store.size()).toBe(2);
      expect(await read(store, "a")).toEqual(
        JSON.parse(JSON.stringify(record("a", { conversation: { conversationId: "c1", turn: 1 } }))),
      );
      expect((await store.list()).map((r) => r.id).sort()).toEqual(["a", "b"]);
      expect(await store.get("nope")).toBeUndefined();
      expect(await store.delete("a")).toBe(true);
      expect(await store.delete("a")).toBe(false);
      expect(await store.get("a")).toBeUndefined();
      expect(await store.size()).toBe(1);
    });

    it("refuses to create a session whose id exists", async () => {
      const store = await fresh();
      await store.create(record("a"));
      await expect(store.create(record("a", { initialPrompt: "other" }))).rejects.toThrow();
      expect((await store.get("a"))?.initialPrompt).toBe("Be a cat.");
    });

    it("appends a turn: drops the oldest entries, appends the new ones, sets conversation and activity", async () => {
      const store = await fresh();
      await store.create(record("a"));
      const turn1 = [entry("user", "one"), entry("assistant", "echo one")];
      const turn2 = [entry("user", "two"), entry("assistant", "echo two")];
      expect(
        await store.appendTurn("a", 10, { drop: 0, append: turn1, conversation: { turn: 1 }, lastActiveAt: 2_000 }),
      ).toBe("written");
      expect(
        await store.appendTurn("a", 11, { drop: 0, append: turn2, conversation: { turn: 2 }, lastActiveAt: 3_000 }),
      ).toBe("written");
      expect((await store.get("a"))?.history.map((e) => e.content)).toEqual(["one", "echo one", "two", "echo two"]);
      const turn3 = [entry("user", "three"), entry("assistant", "echo three")];
      expect(await store.appendTurn("a", 12, { drop: 2, append: turn3, conversation: null, lastActiveAt: 4_000 })).toBe(
        "written",
      );
      const after = await store.get("a");
      expect(after?.history.map((e) => e.content)).toEqual(["two", "echo two", "three", "echo three"]);
      expect(after?.history[0]).toEqual(turn2[0]);
      expect(after?.conversation).toBeNull();
      expect(after?.lastActiveAt).toBe(4_000);
      expect(after?.createdAt).toBe(1_000);
      expect(after?.conversationStartedAt).toBe(1_000);
    });

    it("renews: history emptied, new initial response, conversation and start time", async () => {
      const store = await fresh();
      await store.create(record("a"));
      await store.appendTurn("a", 10, {
        drop: 0,
        append: [entry("user", "hi"), entry("assistant", "yo")],
        conversation: { turn: 1 },
        lastActiveAt: 2_000,
      });
      expect(
        await store.renew("a", 11, {
          initialResponse: "Meow.",
          conversation: { turn: 0 },
          conversationStartedAt: 5_000,
        }),
      ).toBe("written");
      const after = await store.get("a");
      expect(after?.history).toEqual([]);
      expect(after?.initialResponse).toBe("Meow.");
      expect(after?.conversation).toEqual({ turn: 0 });
      expect(after?.conversationStartedAt).toBe(5_000);
      expect(after?.lastActiveAt).toBe(2_000);
      expect(after?.initialPrompt).toBe("Be a cat.");
    });

    it("answers not-found for writes to a missing or deleted session, and never brings it back", async () => {
      const store = await fresh();
      expect(await store.appendTurn("gone", 1, { drop: 0, append: [], conversation: null, lastActiveAt: 1 })).toBe(
        "not-found",
      );
      await store.create(record("a"));
      await store.delete("a");
      expect(
        await store.appendTurn("a", 5, { drop: 0, append: [entry("user", "x")], conversation: null, lastActiveAt: 1 }),
      ).toBe("not-found");
      expect(await store.renew("a", 6, { initialResponse: "", conversation: null, conversationStartedAt: 1 })).toBe(
        "not-found",
      );
      expect(await store.get("a")).toBeUndefined();
      expect(await store.size()).toBe(0);
    });

    it("refuses a write fenced by a token lower than one it accepted: a stale writer never overwrites history", async () => {
      const store = await fresh();
      await store.create(record("a"));
      expect(
        await store.appendTurn("a", 20, {
          drop: 0,
          append: [entry("user", "new holder")],
          conversation: { turn: 9 },
          lastActiveAt: 3_000,
        }),
      ).toBe("written");
      expect(
        await store.appendTurn("a", 19, {
          drop: 1,
          append: [entry("user", "stale")],
          conversation: null,
          lastActiveAt: 9_000,
        }),
      ).toBe("stale");
      expect(
        await store.renew("a", 19, { initialResponse: "stale", conversation: null, conversationStartedAt: 9_000 }),
      ).toBe("stale");
      const after = await store.get("a");
      expect(after?.history.map((e) => e.content)).toEqual(["new holder"]);
      expect(after?.conversation).toEqual({ turn: 9 });
      expect(after?.lastActiveAt).toBe(3_000);
      // The same token again (the holder's next write) and higher ones are accepted.
      expect(
        await store.appendTurn("a", 20, {
          drop: 0,
          append: [entry("assistant", "reply")],
          conversation: { turn: 10 },
          lastActiveAt: 3_500,
        }),
      ).toBe("written");
      expect(
        await store.renew("a", 21, { initialResponse: "", conversation: null, conversationStartedAt: 4_000 }),
      ).toBe("written");
    });

    it("keeps fences per session", async () => {
      const store = await fresh();
      await store.create(record("a"));
      await store.create(record("b"));
      expect(
        await store.appendTurn("a", 50, { drop: 0, append: [entry("user", "a")], conversation: null, lastActiveAt: 2 }),
      ).toBe("written");
      expect(
        await store.appendTurn("b", 10, { drop: 0, append: [entry("user", "b")], conversation: null, lastActiveAt: 2 }),
      ).toBe("written");
    });

    it("round-trips what JSON can hold: unicode, empty strings, conversation state", async () => {
      const store = await fresh();
      const state = { conversationId: "c-\u{1F431}", parent: "", n: 3, flag: false, none: null };
      await store.create(record("u", { initialPrompt: '猫になって\n"quoted"', conversation: state }));
      await store.appendTurn("u", 1, {
        drop: 0,
        append: [entry("user", "こんにちは 🐱"), entry("assistant", "")],
        conversation: state,
        lastActiveAt: 7,
      });
      const after = await store.get("u");
      expect(after?.initialPrompt).toBe('猫になって\n"quoted"');
      expect(after?.history.map((e) => [e.role, e.content, e.tokens])).toEqual([
        ["user", "こんにちは 🐱", "こんにちは 🐱".length + 4],
        ["assistant", "", 4],
      ]);
      expect(after?.conversation).toEqual(state);
    });
  });
}
