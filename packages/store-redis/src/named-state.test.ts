import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { testSealer } from "../test/test-sealer.js";
import { RedisNamedState } from "./named-state.js";
import { RedisConnection } from "./redis-connection.js";

describe.skipIf(skipWithoutRedis)("RedisNamedState", () => {
  let server: TestRedis;
  let raw: Redis;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    server = await startTestRedis();
    raw = new Redis({ port: server.port, host: "127.0.0.1" });
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.close();
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close();
  });
  const connect = (prefix: string): RedisConnection => {
    const connection = new RedisConnection({ url: server.url(), prefix });
    connections.push(connection);
    return connection;
  };

  it("a value written by one replica is read by another, under the prefix, without a TTL", async () => {
    const prefix = `n-${randomUUID().slice(0, 8)}:`;
    await new RedisNamedState({ connection: connect(prefix) }).write("http-default-session", '{"sessionId":"s1"}');
    expect(await new RedisNamedState({ connection: connect(prefix) }).read("http-default-session")).toBe(
      '{"sessionId":"s1"}',
    );
    expect(await raw.pttl(`${prefix}state:http-default-session`)).toBe(-1);
    expect(await new RedisNamedState({ connection: connect(prefix) }).read("other")).toBeUndefined();
  });

  it("update: concurrent replicas each decide from what they read; exactly one wins a claim of an absent value", async () => {
    const prefix = `n-${randomUUID().slice(0, 8)}:`;
    const key = new Uint8Array(32).fill(9);
    const replicas = Array.from(
      { length: 6 },
      () => new RedisNamedState({ connection: connect(prefix), cipher: testSealer(key) }),
    );
    const results = await Promise.all(
      replicas.map((state, i) =>
        state.update("claim", (current) => (current === undefined ? `replica ${i}` : undefined)),
      ),
    );
    expect(new Set(results).size).toBe(1);
    expect(await replicas[0]!.read("claim")).toBe(results[0]);
    // Replacing only what was read: a stale expectation leaves the value alone.
    const winner = results[0]!;
    expect(
      await replicas[1]!.update("claim", (current) => (current === "something else" ? "replaced" : undefined)),
    ).toBe(winner);
    expect(await replicas[2]!.update("claim", (current) => (current === winner ? "replaced" : undefined))).toBe(
      "replaced",
    );
    expect(await replicas[3]!.read("claim")).toBe("replaced");
  });

  it("with a key the value is sealed (the credential never stored in the clear), and opens only with that key and name", async () => {
    const prefix = `n-${randomUUID().slice(0, 8)}:`;
    const key = new Uint8Array(32).fill(7);
    const value = '{"config":"{\\"api_key\\":\\"sk-test-named-state-0001\\"}"}';
    await new RedisNamedState({ connection: connect(prefix), cipher: testSealer(key) }).write("a", value);
    expect(await raw.get(`${prefix}state:a`)).not.toContain("sk-test-named-state-0001");
    expect(await new RedisNamedState({ connection: connect(prefix), cipher: testSealer(key) }).read("a")).toBe(value);
    expect(
      await new RedisNamedState({ connection: connect(prefix), cipher: testSealer(new Uint8Array(32).fill(8)) }).read(
        "a",
      ),
    ).toBeUndefined();
    expect(await new RedisNamedState({ connection: connect(prefix) }).read("a")).toBeUndefined();
    await raw.copy(`${prefix}state:a`, `${prefix}state:b`);
    expect(
      await new RedisNamedState({ connection: connect(prefix), cipher: testSealer(key) }).read("b"),
    ).toBeUndefined();
  });
});
