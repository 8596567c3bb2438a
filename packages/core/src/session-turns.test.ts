import { deferred, rejection } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "./errors.js";
import { MemoryCoordinator } from "./memory-coordinator.js";
import { SessionTurns } from "./session-turns.js";

describe("SessionTurns", () => {
  it("runs one task at a time per session, in arrival order, each with a higher token", async () => {
    const turns = new SessionTurns({ coordinator: new MemoryCoordinator() });
    const gate = deferred();
    const seen: [string, number][] = [];
    const a = turns.run("s", undefined, async (turn) => {
      seen.push(["a", turn.token]);
      await gate.promise;
    });
    const b = turns.run("s", undefined, async (turn) => void seen.push(["b", turn.token]));
    const other = turns.run("t", undefined, async () => void seen.push(["t", 0]));
    await other;
    expect(seen.map(([name]) => name)).toEqual(["a", "t"]);
    gate.resolve();
    await Promise.all([a, b]);
    expect(seen.map(([name]) => name)).toEqual(["a", "t", "b"]);
    expect(seen[2]![1]).toBeGreaterThan(seen[0]![1]);
  });

  it("a deletion aborts the running task with SessionNotFound and marks its turn deleted", async () => {
    const turns = new SessionTurns({ coordinator: new MemoryCoordinator() });
    let seenDeleted = false;
    const running = turns.run("s", undefined, async (turn) => {
      await new Promise((resolve) => turn.signal.addEventListener("abort", resolve, { once: true }));
      seenDeleted = turn.deleted;
      throw turn.signal.reason;
    });
    await new Promise((resolve) => setImmediate(resolve));
    turns.deleted("s");
    expect((await rejection(running)).code).toBe(ErrorCode.SessionNotFound);
    expect(seenDeleted).toBe(true);
  });

  it("a caller that gives up while waiting fails as Aborted; runIfIdle runs only on a free turn", async () => {
    const turns = new SessionTurns({ coordinator: new MemoryCoordinator() });
    const gate = deferred();
    const holder = turns.run("s", undefined, () => gate.promise);
    const controller = new AbortController();
    const waiting = turns.run("s", controller.signal, async () => "never");
    expect(await turns.runIfIdle("s", async () => "evicted")).toBeUndefined();
    controller.abort();
    expect((await rejection(waiting)).code).toBe(ErrorCode.Aborted);
    gate.resolve();
    await holder;
    expect(await turns.runIfIdle("s", async () => "evicted")).toEqual({ value: "evicted" });
  });

  it("enter() holds the turn across steps until release(), which is idempotent; a deletion still reaches it", async () => {
    const turns = new SessionTurns({ coordinator: new MemoryCoordinator() });
    const held = await turns.enter("s", undefined);
    let next = false;
    const behind = turns.run("s", undefined, async () => {
      next = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(next).toBe(false); // still held between the holder's steps
    turns.deleted("s");
    expect(held.deleted).toBe(true);
    expect(held.signal.aborted).toBe(true);
    await held.release();
    await held.release();
    await behind;
    expect(next).toBe(true);
    // Released once: the turn is free again, not released twice into someone else's.
    const again = await turns.enter("s", undefined);
    expect(await turns.runIfIdle("s", async () => "evicted")).toBeUndefined();
    await again.release();
    expect(await turns.runIfIdle("s", async () => "evicted")).toEqual({ value: "evicted" });
  });
});
