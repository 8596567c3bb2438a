import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { HistoryEntry, TurnLease } from "@chatgptchatbot/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { sessionRecord as record } from "../test/session-record.js";
import { RedisConnection } from "./redis-connection.js";
import { RedisCoordinator } from "./redis-coordinator.js";
import { RedisSessionStore } from "./redis-session-store.js";

const HOLDER = fileURLToPath(new URL("../test/fixtures/turn-holder.mjs", import.meta.url));

let server: TestRedis;
const closers: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  if (skipWithoutRedis) return;
  server = await startTestRedis({ password: "test-only-coordinator-pass" });
});
afterAll(async () => {
  await server?.close();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** One replica's view: its own connection, store and coordinator on the shared prefix. */
function replica(prefix: string, { leaseMs }: { leaseMs?: number } = {}) {
  const connection = new RedisConnection({ url: server.url(), prefix });
  const coordinator = new RedisCoordinator({ connection, leaseMs, pollMs: 50 });
  closers.push(async () => {
    coordinator.close();
    await connection.close();
  });
  return { connection, coordinator, store: new RedisSessionStore({ connection }) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipWithoutRedis)("RedisCoordinator across replicas", () => {
  it("serializes 20 concurrent turns on one session from two replicas: none lost or doubled, each prompt followed by its reply", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix);
    const b = replica(prefix);
    await a.store.create(record("s"));
    let inside = 0;
    let mostInside = 0;
    const tokens: number[] = [];
    const chat = async (side: typeof a, n: number): Promise<void> => {
      const lease = await side.coordinator.acquireTurn({ sessionId: "s" });
      try {
        inside++;
        mostInside = Math.max(mostInside, inside);
        tokens.push(lease.token);
        // Read, "ask the upstream", write: what the pool does inside a turn.
        const before = await side.store.get("s");
        await sleep(5);
        const turn: HistoryEntry[] = [
          { role: "user", content: `prompt ${n}`, tokens: 3 },
          { role: "assistant", content: `reply ${n} after ${before?.history.length}`, tokens: 3 },
        ];
        const write = { drop: 0, append: turn, conversation: { turn: n }, lastActiveAt: n };
        const written = await side.store.appendTurn("s", lease.token, write);
        expect(written).toBe("written");
        inside--;
      } finally {
        await lease.release();
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => chat(n % 2 === 0 ? a : b, n)));
    expect(mostInside).toBe(1);
    const history = (await b.store.get("s"))?.history ?? [];
    expect(history).toHaveLength(40);
    const prompts = new Set<string>();
    for (let i = 0; i < 40; i += 2) {
      const n = history[i]?.content.replace("prompt ", "");
      prompts.add(n ?? "");
      // Each reply saw exactly the turns before it: nothing written by a turn running beside it.
      expect(history[i + 1]?.content).toBe(`reply ${n} after ${i}`);
    }
    expect(prompts.size).toBe(20);
    expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
  });

  it("hands the turn on in arrival order across replicas", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix);
    const b = replica(prefix);
    const held = await a.coordinator.acquireTurn({ sessionId: "s" });
    const order: string[] = [];
    const waiters: Promise<void>[] = [];
    for (const [name, side] of [
      ["b1", b],
      ["a1", a],
      ["b2", b],
      ["a2", a],
    ] as const) {
      waiters.push(
        side.coordinator.acquireTurn({ sessionId: "s" }).then(async (lease) => {
          order.push(name);
          await lease.release();
        }),
      );
      await sleep(20); // each has taken its ticket before the next arrives
    }
    await held.release();
    await Promise.all(waiters);
    expect(order).toEqual(["b1", "a1", "b2", "a2"]);
  });

  it("refuses a stale writer: a holder whose lease lapsed never overwrites the new holder's write", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix, { leaseMs: 300 });
    const b = replica(prefix, { leaseMs: 300 });
    await a.store.create(record("s"));
    const old = await a.coordinator.acquireTurn({ sessionId: "s" });
    // The old holder stalls (its timers stop, as in a long GC pause or a frozen VM) until its lease lapses.
    a.coordinator.close();
    const next = await b.coordinator.acquireTurn({ sessionId: "s" });
    expect(next.token).toBeGreaterThan(old.token);
    const fresh = {
      drop: 0,
      append: [{ role: "user" as const, content: "new", tokens: 1 }],
      conversation: { turn: 2 },
      lastActiveAt: 2,
    };
    expect(await b.store.appendTurn("s", next.token, fresh)).toBe("written");
    const stale = {
      drop: 1,
      append: [{ role: "user" as const, content: "stale", tokens: 1 }],
      conversation: null,
      lastActiveAt: 9,
    };
    expect(await a.store.appendTurn("s", old.token, stale)).toBe("stale");
    expect(
      await a.store.renew("s", old.token, { initialResponse: "stale", conversation: null, conversationStartedAt: 9 }),
    ).toBe("stale");
    expect((await a.store.get("s"))?.history.map((e) => e.content)).toEqual(["new"]);
    // Its release frees nothing: the turn is the new holder's.
    await old.release();
    expect(await a.coordinator.tryAcquireTurn("s")).toBeUndefined();
    await next.release();
  });

  it("tells a live holder that its lease was lost", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix, { leaseMs: 300 });
    const lease: TurnLease = await a.coordinator.acquireTurn({ sessionId: "s" });
    // Someone (an operator, a failover to a replica that lost the key) removes the lease.
    await a.connection.client.del(`${prefix}turn:{s}:lease`);
    await new Promise((resolve) => lease.lost.addEventListener("abort", resolve));
    expect(lease.lost.aborted).toBe(true);
  });

  it("extends the lease while its holder lives, past many lease lengths", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    // Extended every ~670 ms: only an event loop stalled for over 1.3 s (a lease is meant to end then) fails this.
    const a = replica(prefix, { leaseMs: 2_000 });
    const b = replica(prefix, { leaseMs: 2_000 });
    const lease = await a.coordinator.acquireTurn({ sessionId: "s" });
    await sleep(5_000);
    expect(lease.lost.aborted).toBe(false);
    expect(await b.coordinator.tryAcquireTurn("s")).toBeUndefined();
    await lease.release();
  });

  it("a holder SIGKILLed mid-turn: its lease expires and a waiter on another replica gets the turn", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const leaseMs = 2_000;
    const child = spawn(process.execPath, [HOLDER, server.url(), prefix, "s", String(leaseMs)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    closers.push(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const held = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const match = /held (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`holder exited ${code}`)));
    });
    const b = replica(prefix, { leaseMs });
    // While the holder lives (and extends), nobody else gets the turn.
    await sleep(2_500);
    expect(await b.coordinator.tryAcquireTurn("s")).toBeUndefined();
    const waiting = b.coordinator.acquireTurn({ sessionId: "s" });
    child.kill("SIGKILL");
    const killedAt = Date.now();
    const lease = await waiting;
    const waitedMs = Date.now() - killedAt;
    expect(lease.token).toBeGreaterThan(held);
    expect(waitedMs).toBeLessThan(leaseMs + 1_000);
    await lease.release();
  });

  it("a replica whose waiter vanished does not block the line: its ticket is skipped once its heartbeat expires", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix, { leaseMs: 300 });
    const b = replica(prefix, { leaseMs: 300 });
    const held = await b.coordinator.acquireTurn({ sessionId: "s" });
    const ghost = a.coordinator.acquireTurn({ sessionId: "s" });
    ghost.catch(() => undefined);
    await sleep(100);
    a.coordinator.close(); // its waiter stops polling: as if its replica froze
    await a.connection.close();
    const next = b.coordinator.acquireTurn({ sessionId: "s" });
    await held.release();
    const lease = await next;
    expect(lease.token).toBeGreaterThan(held.token);
    await lease.release();
  });

  it("a turn on a session that does not exist (a client's made-up id) leaves only keys that expire within a minute", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix);
    const lease = await a.coordinator.acquireTurn({ sessionId: "made-up" });
    await lease.release();
    const keys = await a.connection.client.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await a.connection.client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it("cooldowns are shared and keys never name the credential", async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`;
    const a = replica(prefix);
    const b = replica(prefix);
    const credential = "sk-test-shared-cooldown-000001";
    expect(await a.coordinator.acquireCredential({ credentials: [credential], intervalMs: 30_000 })).toEqual({
      ok: true,
      credential,
    });
    const refused = await b.coordinator.acquireCredential({ credentials: [credential], intervalMs: 30_000 });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterMs).toBeGreaterThan(28_000);
    const keys = await a.connection.client.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    expect(keys.join()).not.toContain(credential);
  });
});
