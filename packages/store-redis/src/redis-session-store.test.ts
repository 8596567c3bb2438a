import { randomUUID } from "node:crypto";
import { recordingLogger } from "@chatgptchatbot/testkit/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { sessionRecord, TEST_CONFIG } from "../test/session-record.js";
import { testSealer } from "../test/test-sealer.js";
import { RedisConnection } from "./redis-connection.js";
import { RedisSessionStore, type RedisSessionStoreOptions } from "./redis-session-store.js";

const KEY = TEST_CONFIG.credentials[0]!;
const SERVER_KEY = "sk-test-redis-server-default-0001";
const CONFIG = TEST_CONFIG;
const record = sessionRecord;

let server: TestRedis;
let raw: Redis;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (skipWithoutRedis) return;
  server = await startTestRedis();
  raw = new Redis({ port: server.port, host: "127.0.0.1" });
});
afterAll(async () => {
  raw?.disconnect();
  await server?.close();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function open(options: Omit<RedisSessionStoreOptions, "connection"> & { prefix?: string } = {}) {
  const prefix = options.prefix ?? `t-${randomUUID().slice(0, 8)}:`;
  const logger = recordingLogger();
  const connection = new RedisConnection({ url: server.url(), prefix, logger });
  closers.push(() => connection.close());
  return { store: new RedisSessionStore({ connection, ...options }), prefix, logger };
}

/** Every key and value under a prefix, as one string, to look for secrets in. */
async function dump(prefix: string): Promise<string> {
  const keys = await raw.keys(`${prefix}*`);
  const parts: string[] = [...keys];
  for (const key of keys) {
    const type = await raw.type(key);
    if (type === "hash") parts.push(JSON.stringify(await raw.hgetall(key)));
    if (type === "list") parts.push(JSON.stringify(await raw.lrange(key, 0, -1)));
    if (type === "string") parts.push(String(await raw.get(key)));
    if (type === "zset") parts.push(JSON.stringify(await raw.zrange(key, "0", "-1")));
  }
  return parts.join("\n");
}

describe.skipIf(skipWithoutRedis)("RedisSessionStore", () => {
  it("gives records the zombie time as TTL and refreshes it on each chat, not on a renew", async () => {
    const { store, prefix } = open({ ttlMs: 60_000 });
    await store.create(record("a"));
    const hash = `${prefix}session:{a}`;
    const history = `${prefix}session:{a}:history`;
    expect(await raw.pttl(hash)).toBeGreaterThan(59_000);
    await raw.pexpire(hash, 5_000);
    await store.appendTurn("a", 1, {
      drop: 0,
      append: [{ role: "user", content: "hi", tokens: 5 }],
      conversation: null,
      lastActiveAt: 2,
    });
    expect(await raw.pttl(hash)).toBeGreaterThan(59_000);
    expect(await raw.pttl(history)).toBeGreaterThan(59_000);
    await raw.pexpire(hash, 5_000);
    await store.renew("a", 2, { initialResponse: "", conversation: null, conversationStartedAt: 3 });
    expect(await raw.pttl(hash)).toBeLessThanOrEqual(5_000);
  });

  it("forgets a record whose TTL ran out: get, size and list agree", async () => {
    const { store } = open({ ttlMs: 150 });
    await store.create(record("short"));
    expect(await store.size()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await store.get("short")).toBeUndefined();
    expect(await store.size()).toBe(0);
    expect(await store.list()).toEqual([]);
    expect(await store.appendTurn("short", 1, { drop: 0, append: [], conversation: null, lastActiveAt: 1 })).toBe(
      "not-found",
    );
  });

  it("with no TTL, records stay", async () => {
    const { store, prefix } = open();
    await store.create(record("a"));
    expect(await raw.pttl(`${prefix}session:{a}`)).toBe(-1);
  });

  it("appends a turn without rewriting the history: the list only grows at its end", async () => {
    const { store, prefix } = open();
    const entries = Array.from({ length: 50 }, (_, i) => ({
      role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
      content: `m${i}`,
      tokens: 4,
    }));
    await store.create(record("a", { history: entries }));
    const history = `${prefix}session:{a}:history`;
    const before = await raw.lrange(history, 2, -1);
    const turn = {
      drop: 2,
      append: [{ role: "user" as const, content: "new", tokens: 5 }],
      conversation: { turn: 1 },
      lastActiveAt: 9,
    };
    await store.appendTurn("a", 1, turn);
    const after = await raw.lrange(history, 0, -1);
    expect(after.slice(0, -1)).toEqual(before);
    expect((await store.get("a"))?.history.at(-1)?.content).toBe("new");
  });

  it("seals credentials with a sealer: no credential anywhere in Redis, read back with the same key only", async () => {
    const key = new Uint8Array(32).fill(7);
    const { store, prefix } = open({ cipher: testSealer(key) });
    await store.create(record("a"));
    expect(await dump(prefix)).not.toContain(KEY);
    expect((await store.get("a"))?.config.credentials).toEqual([KEY]);

    const other = open({ prefix, cipher: testSealer(new Uint8Array(32).fill(8)) });
    expect(await other.store.get("a")).toBeUndefined();
    const none = open({ prefix });
    expect(await none.store.get("a")).toBeUndefined();
    expect(none.logger.lines.some((line) => line.msg === "session store: unreadable record skipped")).toBe(true);
    expect(JSON.stringify(none.logger.lines)).not.toContain(KEY);
  });

  it("never writes the server's default credentials; records refer to them by kind", async () => {
    const serverConfig = { ...CONFIG, credentials: [SERVER_KEY], serverCredential: true };
    const { store, prefix } = open({ serverCredentials: { "api-key": [SERVER_KEY] } });
    await store.create(record("a", { config: serverConfig }));
    expect(await dump(prefix)).not.toContain(SERVER_KEY);
    expect((await store.get("a"))?.config).toEqual(serverConfig);
    // A replica configured with another default key uses its own.
    const rotated = open({ prefix, serverCredentials: { "api-key": ["sk-test-rotated-default-0002"] } });
    expect((await rotated.store.get("a"))?.config.credentials).toEqual(["sk-test-rotated-default-0002"]);
  });

  it("treats a damaged record as absent, and lists the others", async () => {
    const { store, prefix } = open();
    await store.create(record("good"));
    await store.create(record("bad"));
    await raw.hset(`${prefix}session:{bad}`, "config", "{not json");
    await raw.rpush(`${prefix}session:{good}:history`, '["user","ok",3]');
    expect(await store.get("bad")).toBeUndefined();
    expect((await store.list()).map((r) => r.id)).toEqual(["good"]);
    await raw.rpush(`${prefix}session:{good}:history`, '["system","injected",3]');
    expect(await store.get("good")).toBeUndefined();
  });

  it("keeps a write whole: a turn whose entries are refused by Redis leaves the session as it was", async () => {
    const { store, prefix } = open();
    await store.create(record("a", { history: [{ role: "user", content: "kept", tokens: 5 }] }));
    // Make the history key the wrong type: RPUSH fails inside the script, after the fence check.
    await raw.del(`${prefix}session:{a}:history`);
    await raw.set(`${prefix}session:{a}:history`, "not a list");
    const turn = {
      drop: 0,
      append: [{ role: "user" as const, content: "x", tokens: 1 }],
      conversation: { turn: 5 },
      lastActiveAt: 99,
    };
    await expect(store.appendTurn("a", 5, turn)).rejects.toThrow("session store unavailable");
    const fields = await raw.hgetall(`${prefix}session:{a}`);
    expect(fields.fence).toBe("0");
    expect(fields.lastActiveAt).toBe("1000");
    expect(fields.conversation).toBe("null");
  });
});
