import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MemoryCoordinator, MemorySessionStore } from "@chatgptchatbot/core";
import { parseRedisUrl, RedisCoordinator, RedisSessionStore } from "@chatgptchatbot/store-redis";
import { SqliteCoordinator, SqliteSessionStore, SqliteStoreError } from "@chatgptchatbot/store-sqlite";
import { recordingLogger, sessionRecord } from "@chatgptchatbot/testkit/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { openSessionStorage, StoreOpenError } from "./session-storage.js";

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "session-storage-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const base = { key: undefined, serverCredentials: { apiKeys: ["sk-test-server-0001"] }, homeDir: "/nonexistent-home" };

describe("openSessionStorage", () => {
  it("memory: the in-process store and coordinator, nothing to remember the default session in", async () => {
    const storage = await openSessionStorage({ ...base, choice: { kind: "memory" }, env: {} });
    expect(storage.store).toBeInstanceOf(MemorySessionStore);
    expect(storage.coordinator).toBeInstanceOf(MemoryCoordinator);
    expect(storage.defaultSessionMemory).toBeUndefined();
    expect(storage.description).toEqual({ store: "memory" });
    await storage.close();
  });

  it("sqlite at the default path: $XDG_STATE_HOME/chatgptchatbot/sessions.db, owner-only, with its coordinator", async () => {
    const storage = await openSessionStorage({
      ...base,
      choice: { kind: "sqlite", file: undefined },
      env: { XDG_STATE_HOME: folder },
    });
    const file = join(folder, "chatgptchatbot", "sessions.db");
    expect(storage.description).toEqual({ store: "sqlite", storePath: file });
    expect(storage.store).toBeInstanceOf(SqliteSessionStore);
    expect(storage.coordinator).toBeInstanceOf(SqliteCoordinator);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await storage.close();
  });

  it("remembers the HTTP API's default session in the file, across a reopen", async () => {
    const choice = { kind: "sqlite", file: join(folder, "s.db") } as const;
    const first = await openSessionStorage({ ...base, choice, env: {} });
    expect(await first.defaultSessionMemory!.load()).toBeUndefined();
    await first.defaultSessionMemory!.save({
      sessionId: "s-1",
      config: '{"version":3,"api_key":"sk-test-renewed-0002"}',
    });
    await first.close();
    const second = await openSessionStorage({ ...base, choice, env: {} });
    const loaded = await second.defaultSessionMemory!.load();
    expect(loaded).toEqual({ sessionId: "s-1", config: '{"version":3,"api_key":"sk-test-renewed-0002"}' });
    await second.close();
  });

  it("sqlite: a fold of the turn journal that fails is a warn line naming the file, and no turn is lost", async () => {
    const file = join(folder, "s.db");
    const logger = recordingLogger();
    const storage = await openSessionStorage({ ...base, choice: { kind: "sqlite", file }, env: {}, logger });
    await storage.store.create(sessionRecord("s-1"));
    await storage.store.get("s-1");
    const reply = { role: "assistant", content: "meow", tokens: 1 } as const;
    const turn = { drop: 0, append: [reply], conversation: null, lastActiveAt: 2_000 };
    expect(await storage.store.appendTurn("s-1", 1, turn)).toBe("written");
    // The fold at close finds the journal refusing to give up its rows (as a full or read-only disk would).
    const db = new DatabaseSync(file);
    db.exec("CREATE TRIGGER refuse BEFORE DELETE ON turn_journal BEGIN SELECT RAISE(ABORT, 'no room'); END");
    await storage.close();
    expect(logger.lines.map(({ level, msg }) => [level, msg])).toEqual([
      ["warn", "session store: folding the turn journal failed; its turns stay committed, the next fold tries again"],
    ]);
    expect(String(logger.lines[0]!.obj.err)).toMatch(/no room/);
    expect(String(logger.lines[0]!.obj.err)).toContain(file);
    db.exec("DROP TRIGGER refuse");
    db.close();
    const again = await openSessionStorage({ ...base, choice: { kind: "sqlite", file }, env: {} });
    expect((await again.store.get("s-1"))!.history).toEqual([reply]);
    await again.close();
  });

  it("a file that is no store stops the open with one line naming it", async () => {
    const file = join(folder, "junk.db");
    writeFileSync(file, "this is not a database, just some text that is long enough ".repeat(100));
    const error = await openSessionStorage({ ...base, choice: { kind: "sqlite", file }, env: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SqliteStoreError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).not.toContain("\n");
  });

  it("no home folder and no XDG_STATE_HOME: says to set CHATBOT_STORE", async () => {
    await expect(
      openSessionStorage({ ...base, homeDir: "", choice: { kind: "sqlite", file: undefined }, env: {} }),
    ).rejects.toThrow(/CHATBOT_STORE/);
  });
});

describe.skipIf(skipWithoutRedis)("openSessionStorage on Redis", () => {
  const PASSWORD = "test-only-storage-pass";
  let server: TestRedis;
  beforeAll(async () => {
    server = await startTestRedis({ password: PASSWORD });
  });
  afterAll(async () => {
    await server?.close();
  });
  const redis = (url = server.url()) => ({ kind: "redis", endpoint: parseRedisUrl(url) }) as const;
  const prefix = () => `st-${randomUUID().slice(0, 8)}:`;
  const KEY = Buffer.alloc(32, 3).toString("base64");

  it("opens the shared store and coordinator, ready, its address masked, the default session remembered for every replica", async () => {
    const redisPrefix = prefix();
    const a = await openSessionStorage({ ...base, choice: redis(), env: {}, redisPrefix, key: KEY });
    const b = await openSessionStorage({ ...base, choice: redis(), env: {}, redisPrefix, key: KEY });
    try {
      expect(a.store).toBeInstanceOf(RedisSessionStore);
      expect(a.coordinator).toBeInstanceOf(RedisCoordinator);
      expect(a.isReady?.()).toBe(true);
      expect(a.description).toEqual({ store: "redis", redis: `redis://:***@127.0.0.1:${server.port}/0` });
      expect(JSON.stringify(a.description)).not.toContain(PASSWORD);
      expect(await b.defaultSessionMemory!.load()).toBeUndefined();
      const snapshot = { sessionId: "s-1", config: '{"version":3,"api_key":"sk-test-storage-renewed-0001"}' };
      await a.defaultSessionMemory!.save(snapshot);
      expect(await b.defaultSessionMemory!.load()).toEqual(snapshot);
      // A claim replaces only the session the claimer last saw; otherwise it answers with what is there.
      const next = { sessionId: "s-2", config: "" };
      expect(await b.defaultSessionMemory!.claim!({ snapshot: next, replacing: undefined })).toEqual(snapshot);
      expect(await b.defaultSessionMemory!.claim!({ snapshot: next, replacing: "s-1" })).toEqual(next);
      expect(await a.defaultSessionMemory!.load()).toEqual(next);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a replica with another store key, or none, stops in one line without the key", async () => {
    const redisPrefix = prefix();
    const first = await openSessionStorage({ ...base, choice: redis(), env: {}, redisPrefix, key: KEY });
    await first.close();
    for (const key of [undefined, Buffer.alloc(32, 4).toString("base64")]) {
      const error = await openSessionStorage({ ...base, choice: redis(), env: {}, redisPrefix, key }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreOpenError);
      expect((error as Error).message).toMatch(/CHATBOT_STORE_KEY/);
      expect((error as Error).message).not.toContain("\n");
      expect((error as Error).message).not.toContain(PASSWORD);
      if (key !== undefined) expect((error as Error).message).not.toContain(key);
    }
  });

  it("a Redis that does not answer (wrong password, nothing listening) stops the start in one line, password masked", async () => {
    const wrong = `redis://:not-the-password@127.0.0.1:${server.port}/0`;
    const nothing = await startTestRedis();
    const closedUrl = `redis://:${PASSWORD}@127.0.0.1:${nothing.port}/0`;
    await nothing.close();
    for (const url of [wrong, closedUrl]) {
      const error = await openSessionStorage({ ...base, choice: redis(url), env: {}, redisStartTimeoutMs: 500 }).catch(
        (e: unknown) => e,
      );
      expect(error, url).toBeInstanceOf(StoreOpenError);
      expect((error as Error).message).toMatch(
        /^session store redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: Redis did not answer within 0\.5 s/,
      );
      expect((error as Error).message).not.toMatch(/not-the-password|test-only-storage-pass/);
    }
  });
});
