/**
 * `node dist/redis-pool-main.js [--quick]`: the pool's cost of a chat with the
 * Redis store and coordinator against the in-process ones, the transports
 * and the upstream left out (an instant backend), at c=1 and c=16 (each
 * client its own session, as VTuber streams have). Starts its own
 * redis-server on a free loopback port (Debian's; no persistence), one pool
 * in this process. Reports, per chat: this process's CPU, redis-server's CPU,
 * and the latency p50/p99 of `pool.chat`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, type Coordinator, SessionPool, type SessionStore } from "@chatgptchatbot/core";
import { RedisConnection, RedisCoordinator, RedisSessionStore } from "@chatgptchatbot/store-redis";
import { parseCli } from "./cli-args.js";
import { freePort } from "./free-port.js";
import { readCpuMicros } from "./proc-stat.js";
import { LatencyRecorder } from "./stats.js";

const { values } = parseCli(
  "node dist/redis-pool-main.js [--quick]: the pool's cost of a chat with the Redis store and coordinator against the in-process ones",
  { options: { quick: { type: "boolean", default: false } } },
);
const CHATS = values.quick ? 400 : 4_000;
const WARMUP = values.quick ? 100 : 500;

/** Answers at once: what is measured is the pool and its store, not an upstream. */
const instant: Backend = {
  initialPrompt: "system",
  async *ask() {
    yield { type: "text", text: "Meow, nice to meet you." };
    yield { type: "finish" };
  },
};

interface Row {
  store: string;
  concurrency: number;
  chats: number;
  cpuUsPerChat: number;
  redisCpuUsPerChat: number | undefined;
  p50Ms: number;
  p99Ms: number;
}

async function measure({
  name,
  store,
  coordinator,
  concurrency,
  redisPid,
}: {
  name: string;
  store: SessionStore;
  coordinator: Coordinator;
  concurrency: number;
  redisPid: number | undefined;
}): Promise<Row> {
  const pool = new SessionPool({
    backends: () => instant,
    store,
    coordinator,
    sweepIntervalMs: 0,
    maxSessions: 1_000,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  const sessions = await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const config = JSON.stringify({ version: 3, api_key: `sk-test-bench-${String(i).padStart(24, "0")}` });
      return (await pool.create({ config, initialPrompt: "You are a cat." })).sessionId;
    }),
  );
  const run = async (chats: number, latency: LatencyRecorder | undefined): Promise<void> => {
    let next = 0;
    await Promise.all(
      sessions.map(async (sessionId) => {
        while (next < chats) {
          next++;
          const started = performance.now();
          await pool.chat({ sessionId, prompt: "How is the stream going today?" });
          latency?.record(performance.now() - started);
        }
      }),
    );
  };
  await run(WARMUP, undefined);
  const latency = new LatencyRecorder();
  const cpuBefore = process.cpuUsage();
  const redisBefore = redisPid === undefined ? 0 : readCpuMicros(redisPid);
  await run(CHATS, latency);
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = redisPid === undefined ? undefined : readCpuMicros(redisPid) - redisBefore;
  await pool.close();
  const summary = latency.summary();
  return {
    store: name,
    concurrency,
    chats: summary.count,
    cpuUsPerChat: (cpu.user + cpu.system) / summary.count,
    redisCpuUsPerChat: redisCpu === undefined ? undefined : redisCpu / summary.count,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
  };
}

const dir = mkdtempSync(join(tmpdir(), "bench-redis-"));
const port = await freePort();
const redisArgs = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
const redis = spawn("redis-server", redisArgs, { stdio: "ignore" });
const rows: Row[] = [];
try {
  const { MemoryCoordinator, MemorySessionStore } = await import("@chatgptchatbot/core");
  const connection = new RedisConnection({ url: `redis://127.0.0.1:${port}/0`, prefix: "bench:" });
  await connection.waitUntilReady({ timeoutMs: 10_000 });
  for (const concurrency of [1, 16]) {
    const [memoryStore, memoryCoordinator] = [new MemorySessionStore(), new MemoryCoordinator()];
    rows.push(
      await measure({
        name: "memory",
        store: memoryStore,
        coordinator: memoryCoordinator,
        concurrency,
        redisPid: undefined,
      }),
    );
    const coordinator = new RedisCoordinator({ connection });
    const store = new RedisSessionStore({ connection, ttlMs: 3_600_000 });
    rows.push(await measure({ name: "redis", store, coordinator, concurrency, redisPid: redis.pid }));
    coordinator.close();
  }
  await connection.close();
} finally {
  redis.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}

const fixed = (n: number | undefined, digits: number): string => (n === undefined ? "—" : n.toFixed(digits));
console.log("| store | c | chats | CPU µs/chat (Node) | CPU µs/chat (redis-server) | p50 ms | p99 ms |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  console.log(
    `| ${row.store} | ${row.concurrency} | ${row.chats} | ${fixed(row.cpuUsPerChat, 0)} | ${fixed(row.redisCpuUsPerChat, 0)} ` +
      `| ${fixed(row.p50Ms, 3)} | ${fixed(row.p99Ms, 3)} |`,
  );
}
