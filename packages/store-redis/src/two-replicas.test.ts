/**
 * Two replicas' SessionPools (core's, unchanged) on one Redis: what the
 * issue asks of several replicas, at the pool's level. Each replica has its
 * own connection, store, coordinator and backend, as separate processes do.
 */
import { randomUUID } from "node:crypto";
import { ChatbotError, ErrorCode, SessionPool, type SessionPoolOptions } from "@chatgptchatbot/core";
import { caught, ScriptedBackend, sessionConfig } from "@chatgptchatbot/testkit/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { RedisConnection } from "./redis-connection.js";
import { RedisCoordinator } from "./redis-coordinator.js";
import { RedisSessionStore } from "./redis-session-store.js";

let server: TestRedis;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (skipWithoutRedis) return;
  server = await startTestRedis();
});
afterAll(async () => {
  await server?.close();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Replica {
  readonly pool: SessionPool;
  readonly backend: ScriptedBackend;
}

/** Two replicas sharing a fresh key prefix. */
function twoReplicas(
  options: Omit<SessionPoolOptions, "backends" | "store" | "coordinator"> = {},
  backend = () => new ScriptedBackend(),
): [Replica, Replica] {
  const prefix = `t-${randomUUID().slice(0, 8)}:`;
  const make = (): Replica => {
    const connection = new RedisConnection({ url: server.url(), prefix });
    const coordinator = new RedisCoordinator({ connection, pollMs: 50 });
    const scripted = backend();
    const pool = new SessionPool({
      backends: () => scripted,
      store: new RedisSessionStore({ connection, ttlMs: 600_000 }),
      coordinator,
      sweepIntervalMs: 0,
      cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
      ...options,
    });
    closers.push(async () => {
      await pool.close({ timeoutMs: 1_000 });
      coordinator.close();
      await connection.close();
    });
    return { pool, backend: scripted };
  };
  return [make(), make()];
}

describe.skipIf(skipWithoutRedis)("two replicas on one Redis", () => {
  it("create on A, chat on B: the history continues", async () => {
    const [a, b] = twoReplicas();
    const { sessionId } = await a.pool.create({ config: sessionConfig(), initialPrompt: "Be a cat." });
    expect(await a.pool.chat({ sessionId, prompt: "one" })).toBe("echo: one");
    expect(await b.pool.chat({ sessionId, prompt: "two" })).toBe("echo: two");
    expect(b.backend.requests[0]?.history.map((entry) => entry.content)).toEqual(["one", "echo: one"]);
    expect(b.backend.requests[0]?.systemPrompt).toBe("Be a cat.");
    expect((await a.pool.get(sessionId))?.historyLength).toBe(4);
  });

  it("a cooldown started on A refuses on B", async () => {
    const [a, b] = twoReplicas({ cooldown: { apiKeyMs: 60_000, accessTokenMs: 60_000 } });
    const { sessionId } = await a.pool.create({ config: sessionConfig() });
    await a.pool.chat({ sessionId, prompt: "first" });
    const refused = await caught(b.pool.chat({ sessionId, prompt: "too soon" }));
    expect(refused).toBeInstanceOf(ChatbotError);
    expect((refused as ChatbotError).code).toBe(ErrorCode.Cooldown);
    expect((refused as ChatbotError).retryAfterMs).toBeGreaterThan(55_000);
    expect(b.backend.requests).toHaveLength(0);
  });

  it("20 concurrent chats on one session split across A and B: 20 turns, none lost or doubled, each prompt followed by its reply", async () => {
    const [a, b] = twoReplicas();
    const { sessionId } = await a.pool.create({ config: sessionConfig({ maxTokens: 100_000 }) });
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        (n % 2 === 0 ? a : b).pool.chat({ sessionId, prompt: `prompt ${n}`, signal: AbortSignal.timeout(20_000) }),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 20 }, (_, n) => `echo: prompt ${n}`));
    // Each request saw every turn before it and nothing else: the history it was sent grows by two each time.
    const seen = [...a.backend.requests, ...b.backend.requests]
      .map((request) => request.history.length)
      .sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, n) => 2 * n));
    const history =
      b.backend.requests.concat(a.backend.requests).sort((x, y) => y.history.length - x.history.length)[0]?.history ??
      [];
    expect(history).toHaveLength(38);
    for (let i = 0; i < history.length; i += 2) {
      expect(history[i]?.role).toBe("user");
      expect(history[i + 1]?.content).toBe(`echo: ${history[i]?.content}`);
    }
    expect(new Set(history.filter((entry) => entry.role === "user").map((entry) => entry.content)).size).toBe(19);
    expect((await a.pool.get(sessionId))?.historyLength).toBe(40);
  });

  it("delete on A: NOT_FOUND on B", async () => {
    const [a, b] = twoReplicas();
    const { sessionId } = await a.pool.create({ config: sessionConfig() });
    await b.pool.chat({ sessionId, prompt: "hi" });
    await a.pool.delete(sessionId);
    const error = await caught(b.pool.chat({ sessionId, prompt: "still there?" }));
    expect((error as ChatbotError).code).toBe(ErrorCode.SessionNotFound);
    expect(((await caught(b.pool.delete(sessionId))) as ChatbotError).code).toBe(ErrorCode.SessionNotFound);
  });

  it("the session limit holds across replicas, even for simultaneous creates", async () => {
    const [a, b] = twoReplicas({ maxSessions: 3 });
    const creates = Array.from({ length: 8 }, (_, n) => (n % 2 === 0 ? a : b).pool.create({ config: sessionConfig() }));
    const results = await Promise.allSettled(creates);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(3);
    for (const result of results) {
      if (result.status === "rejected") expect((result.reason as ChatbotError).code).toBe(ErrorCode.TooManySessions);
    }
    expect(await b.pool.size()).toBe(3);
  });

  it("a renewal due is done once, whichever replicas sweep", async () => {
    const [a, b] = twoReplicas(
      { renewIntervalMs: 200, zombieAfterMs: 60_000 },
      () => new ScriptedBackend({ initialPrompt: "ask" }),
    );
    const { sessionId } = await a.pool.create({ config: sessionConfig(), initialPrompt: "Be a cat." });
    await a.pool.chat({ sessionId, prompt: "hi" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const asksBefore = a.backend.requests.length + b.backend.requests.length;
    await Promise.all([a.pool.sweep(), b.pool.sweep(), a.pool.sweep(), b.pool.sweep()]);
    await Promise.all([a.pool.close({ timeoutMs: 5_000 }), b.pool.close({ timeoutMs: 5_000 })]);
    expect(a.backend.requests.length + b.backend.requests.length - asksBefore).toBe(1);
  });
});
