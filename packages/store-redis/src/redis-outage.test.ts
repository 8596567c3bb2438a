import { randomUUID } from "node:crypto";
import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { caught } from "@chatgptchatbot/testkit/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { sessionRecord as record } from "../test/session-record.js";
import { RedisConnection } from "./redis-connection.js";
import { RedisCoordinator } from "./redis-coordinator.js";
import { RedisSessionStore } from "./redis-session-store.js";

/** The bound: a call fails within 3 s of being made while Redis is down, not at the caller's deadline. */
const FAIL_FAST_MS = 3_000;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
let server: TestRedis;
const closers: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  if (skipWithoutRedis) return;
  process.on("unhandledRejection", onUnhandled);
  server = await startTestRedis({ password: "test-only-outage-pass", persist: true });
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await server?.close();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  if (server !== undefined) await server.start().catch(() => undefined); // running again for the next test
});

function replica({
  url = server.url(),
  prefix = `t-${randomUUID().slice(0, 8)}:`,
  leaseMs,
}: {
  url?: string;
  prefix?: string;
  leaseMs?: number;
} = {}) {
  const connection = new RedisConnection({ url, prefix });
  const coordinator = new RedisCoordinator({ connection, leaseMs, pollMs: 50 });
  closers.push(async () => {
    coordinator.close();
    await connection.close();
  });
  return { connection, coordinator, store: new RedisSessionStore({ connection, ttlMs: 600_000 }) };
}

/** Runs `call`, expecting core's Unavailable "session store unavailable" within the bound. */
async function failsFast(call: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const error = await caught(call());
  expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
  expect(error).toBeInstanceOf(ChatbotError);
  expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
  expect((error as ChatbotError).message).toBe("session store unavailable");
}

async function eventually(check: () => Promise<boolean> | boolean, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(skipWithoutRedis)("Redis down", () => {
  it("restarted mid-run: every call fails fast with Unavailable, health turns false, then everything works again by itself", async () => {
    const a = replica();
    const b = replica({ prefix: a.connection.keys.prefix });
    await a.store.create(record("s"));
    const first = await a.coordinator.acquireTurn({ sessionId: "s" });
    const before = {
      drop: 0,
      append: [{ role: "user" as const, content: "before", tokens: 2 }],
      conversation: null,
      lastActiveAt: 2,
    };
    expect(await a.store.appendTurn("s", first.token, before)).toBe("written");
    await first.release();
    expect(a.connection.isReady()).toBe(true);

    await server.stop();
    expect(await eventually(() => !a.connection.isReady() && !b.connection.isReady(), 5_000)).toBeLessThan(5_000);
    expect(await a.connection.ping()).toBe(false);
    await failsFast(() => a.store.get("s"));
    await failsFast(() =>
      b.store.appendTurn("s", first.token + 1, { drop: 0, append: [], conversation: null, lastActiveAt: 3 }),
    );
    await failsFast(() => a.store.size());
    await failsFast(() => a.store.list());
    await failsFast(() => a.store.create(record("t")));
    await failsFast(() => b.store.delete("s"));
    await failsFast(() =>
      a.coordinator.acquireCredential({ credentials: ["sk-test-outage-0000000000001"], intervalMs: 1_000 }),
    );
    await failsFast(() => a.coordinator.acquireTurn({ sessionId: "s", signal: AbortSignal.timeout(60_000) }));
    await failsFast(() => b.coordinator.tryAcquireTurn("s"));
    await failsFast(() => a.coordinator.reserveSlot({ limit: 10, occupied: async () => 0 }));
    // Made while the outage is known, a call fails at once rather than after the command timeout.
    const started = Date.now();
    await failsFast(() => a.store.get("s"));
    expect(Date.now() - started).toBeLessThan(500);

    await server.start();
    await eventually(() => a.connection.isReady() && b.connection.isReady(), 10_000);
    // The restarted server has forgotten the scripts: they load again on NOSCRIPT.
    const lease = await b.coordinator.acquireTurn({ sessionId: "s" });
    const after = {
      drop: 0,
      append: [{ role: "user" as const, content: "after", tokens: 2 }],
      conversation: null,
      lastActiveAt: 4,
    };
    expect(await b.store.appendTurn("s", lease.token, after)).toBe("written");
    await lease.release();
    expect((await a.store.get("s"))?.history.map((e) => e.content)).toEqual(["before", "after"]);
    expect(await a.connection.ping()).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it("a waiter in line when Redis goes away fails fast, not at its deadline", async () => {
    const a = replica();
    const held = await a.coordinator.acquireTurn({ sessionId: "s" });
    const waiter = a.coordinator.acquireTurn({ sessionId: "s", signal: AbortSignal.timeout(60_000) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.stop();
    await failsFast(() => waiter);
    await held.release(); // never throws: with Redis down the lease expires by itself
    expect(unhandled).toEqual([]);
  });

  it("a holder cut off from Redis longer than its lease is told the lease is lost", async () => {
    const a = replica({ leaseMs: 300 });
    const lease = await a.coordinator.acquireTurn({ sessionId: "s" });
    await server.stop();
    await eventually(() => lease.lost.aborted, 3_000);
    await lease.release();
  });

  it("hung (SIGSTOP, the socket stays open): calls fail within the command timeout, health turns false, and it recovers on SIGCONT", async () => {
    const a = replica();
    await a.store.create(record("s"));
    const pid = server.pid!;
    process.kill(pid, "SIGSTOP");
    try {
      await failsFast(() => a.store.get("s"));
      expect(a.connection.isReady()).toBe(false);
      await failsFast(() => a.coordinator.acquireTurn({ sessionId: "s", signal: AbortSignal.timeout(60_000) }));
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await eventually(async () => (await a.connection.ping()) && a.connection.isReady(), 10_000);
    expect((await a.store.get("s"))?.id).toBe("s");
    expect(unhandled).toEqual([]);
  });

  it("down at start: calls fail fast, and the connection comes up by itself once Redis does", async () => {
    await server.stop();
    const a = replica();
    await failsFast(() => a.store.get("s"));
    await failsFast(() => a.store.get("s"));
    expect(a.connection.isReady()).toBe(false);
    await server.start();
    await eventually(() => a.connection.isReady(), 10_000);
    expect(await a.store.get("nope")).toBeUndefined();
    expect(unhandled).toEqual([]);
  });
});
