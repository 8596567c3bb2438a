import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode, type SessionRecord } from "@chatgptchatbot/core";
import { makeRecord, tempFolder, turn } from "../test/fixtures.js";
import { openDatabase } from "./database.js";
import { SessionTable } from "./session-table.js";
import { openSqliteSessionStore, SqliteSessionStore, type SqliteSessionStoreOptions } from "./sqlite-session-store.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER_KEY = Buffer.alloc(32, 9).toString("base64");

let folder: ReturnType<typeof tempFolder>;
let file: string;
const opened: SqliteSessionStore[] = [];

function openStore(options: Partial<SqliteSessionStoreOptions> = {}): SqliteSessionStore {
  const store = openSqliteSessionStore({ file, ...options });
  opened.push(store);
  return store;
}

/** Everything on disk for this store (main file, WAL), as one string to search for secrets. */
function bytesOnDisk(): string {
  const dir = dirname(file);
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name)).toString("latin1"))
    .join("\n");
}

/** Counts row writes through triggers that live in the file, so they see the store's own connection. */
function installAudit(): { counts: () => Record<string, number> } {
  const db = new DatabaseSync(file);
  db.exec(`
    CREATE TABLE audit (op TEXT NOT NULL);
    CREATE TRIGGER audit_mi AFTER INSERT ON messages BEGIN INSERT INTO audit VALUES ('message insert'); END;
    CREATE TRIGGER audit_md AFTER DELETE ON messages BEGIN INSERT INTO audit VALUES ('message delete'); END;
    CREATE TRIGGER audit_mu AFTER UPDATE ON messages BEGIN INSERT INTO audit VALUES ('message update'); END;
    CREATE TRIGGER audit_si AFTER INSERT ON sessions BEGIN INSERT INTO audit VALUES ('session insert'); END;
    CREATE TRIGGER audit_su AFTER UPDATE ON sessions BEGIN INSERT INTO audit VALUES ('session update'); END;
  `);
  return {
    counts: () => {
      const rows = db.prepare("SELECT op, count(*) AS n FROM audit GROUP BY op").all() as Array<{ op: string; n: number }>;
      db.exec("DELETE FROM audit");
      return Object.fromEntries(rows.map((row) => [row.op, row.n]));
    },
  };
}

beforeEach(() => {
  folder = tempFolder();
  file = join(folder.path, "state", "sessions.db");
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  folder.cleanup();
});

describe.each([{ cache: true }, { cache: false }])("SqliteSessionStore (cache: $cache)", ({ cache }) => {
  const open = (options: Partial<SqliteSessionStoreOptions> = {}): SqliteSessionStore => openStore({ cache, ...options });

  it("round-trips every field of a record, across a reopen", async () => {
    const record = makeRecord({ id: "s-1", turns: 3 });
    record.initialResponse = "Hi chat!";
    const store = open();
    await store.set(record);
    expect(await store.get("s-1")).toEqual(record);
    store.close();

    const again = open();
    expect(await again.get("s-1")).toEqual(record);
    expect(await again.size()).toBe(1);
    expect(await again.list()).toEqual([record]);
    expect(await again.get("nope")).toBeUndefined();
  });

  it("round-trips a record without optional config fields and without conversation state", async () => {
    const base = makeRecord({ id: "s-2" });
    const record: SessionRecord = {
      ...base,
      config: { ...base.config, model: undefined, temperature: undefined, version: 1, filter: false },
      conversation: null,
    };
    const store = open();
    await store.set(record);
    expect(await store.get("s-2")).toEqual(record);
  });

  it("hands out copies: changing what get returned changes nothing until set", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 1 }));
    const copy = (await store.get("s-1"))!;
    copy.history.push(...turn(9));
    copy.lastActiveAt = 5;
    expect((await store.get("s-1"))!.history).toHaveLength(2);
    expect((await store.get("s-1"))!.lastActiveAt).not.toBe(5);
  });

  it("stores a chat turn as one update and two inserts, rewriting nothing already stored", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 10 }));
    await store.set(makeRecord({ id: "s-other", turns: 10 }));
    const audit = installAudit();

    // What the pool does for a turn: get, push the user message and the reply, set.
    const record = (await store.get("s-1"))!;
    record.history.push(...turn(10));
    record.lastActiveAt += 1000;
    record.conversation = { conversationId: "c-s-1", parentId: "p-2" };
    await store.set(record);
    expect(audit.counts()).toEqual({ "session update": 1, "message insert": 2 });
    expect(await store.get("s-1")).toEqual(record);

    // A turn that trims the oldest turn from the budget: two deletes, two inserts.
    const next = (await store.get("s-1"))!;
    next.history = next.history.slice(2);
    next.history.push(...turn(11));
    await store.set(next);
    expect(audit.counts()).toEqual({ "session update": 1, "message insert": 2, "message delete": 2 });
    expect(await store.get("s-1")).toEqual(next);

    // The other session was never touched.
    expect((await store.get("s-other"))!.history).toEqual(makeRecord({ id: "s-other", turns: 10 }).history);
  });

  it("clears the stored history when a renew empties it, and keeps appending after", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 4 }));
    const renewed = (await store.get("s-1"))!;
    renewed.history = [];
    renewed.initialResponse = "fresh start";
    await store.set(renewed);
    expect(await store.get("s-1")).toEqual(renewed);

    const after = (await store.get("s-1"))!;
    after.history.push(...turn(1));
    await store.set(after);
    expect((await store.get("s-1"))!.history).toEqual(turn(1));
  });

  it("rewrites only that session's history when the entries are not the ones it handed out", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 3 }));
    const audit = installAudit();
    const rebuilt = makeRecord({ id: "s-1", turns: 2 }); // same id, fresh objects (another writer's copy)
    rebuilt.history.push(...turn(7));
    await store.set(rebuilt);
    expect(audit.counts()).toEqual({ "session update": 1, "message delete": 6, "message insert": 6 });
    expect(await store.get("s-1")).toEqual(rebuilt);
  });

  it("deletes a session with its history", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 2 }));
    await store.set(makeRecord({ id: "s-2", turns: 2 }));
    expect(await store.delete("s-1")).toBe(true);
    expect(await store.delete("s-1")).toBe(false);
    expect(await store.get("s-1")).toBeUndefined();
    expect(await store.size()).toBe(1);
    const db = new DatabaseSync(file, { readOnly: true });
    expect(db.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({ n: 4 });
    db.close();
  });

  it("lists activity without reading histories", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", turns: 2, now: 1000 }));
    expect(await store.listActivity()).toEqual([
      { id: "s-1", createdAt: 1000, conversationStartedAt: 1001, lastActiveAt: 1002 },
    ]);
  });
});

const open = openStore;

describe("credentials at rest", () => {
  it("never writes the server's default credentials; resolves them from the server at load", async () => {
    const serverCredentials = { apiKeys: ["sk-test-server-default-AAAA"] };
    const store = open({ serverCredentials });
    const record = makeRecord({ id: "s-1", credentials: ["sk-test-server-default-AAAA"], serverCredential: true });
    await store.set(record);
    store.close();
    expect(bytesOnDisk()).not.toContain("sk-test-server-default-AAAA");

    // The operator rotated the key: the session follows the server's current default.
    const rotated = open({ serverCredentials: { apiKeys: ["sk-test-server-rotated-BBBB"] } });
    expect((await rotated.get("s-1"))!.config).toEqual({ ...record.config, credentials: ["sk-test-server-rotated-BBBB"] });
  });

  it("treats a session whose server credential is no longer configured as absent (it stays stored)", async () => {
    const store = open({ serverCredentials: { apiKeys: ["sk-test-server-default-AAAA"] } });
    await store.set(makeRecord({ id: "s-1", serverCredential: true, credentials: ["sk-test-server-default-AAAA"] }));
    store.close();
    const without = open({ serverCredentials: {} });
    expect(await without.get("s-1")).toBeUndefined();
    expect(await without.list()).toEqual([]);
    expect(await without.size()).toBe(1);
  });

  it("with CHATBOT_STORE_KEY, keeps client credentials only encrypted and reads them back with the key", async () => {
    const store = open({ key: KEY });
    const record = makeRecord({ id: "s-1", credentials: ["sk-test-client-secret-CCCC", "sk-test-client-secret-DDDD"] });
    await store.set(record);
    store.close();
    const disk = bytesOnDisk();
    expect(disk).not.toContain("sk-test-client-secret-CCCC");
    expect(disk).not.toContain("sk-test-client-secret-DDDD");
    expect(await open({ key: KEY }).get("s-1")).toEqual(record);
  });

  it("without a key, client credentials are stored plaintext in the owner-only file", async () => {
    const store = open();
    await store.set(makeRecord({ id: "s-1", credentials: ["sk-test-client-plain-EEEE"] }));
    store.close();
    expect(bytesOnDisk()).toContain("sk-test-client-plain-EEEE");
  });

  it("a store written with a key stops the open without it, or with another, in one line", async () => {
    open({ key: KEY }).close();
    const missing = catchOpen({ file });
    expect(missing.problem).toBe(SqliteStoreProblem.KeyRequired);
    expect(missing.message).toMatch(/^session store .*sessions\.db: .*CHATBOT_STORE_KEY is not set/);
    const wrong = catchOpen({ file, key: OTHER_KEY });
    expect(wrong.problem).toBe(SqliteStoreProblem.WrongKey);
    for (const error of [missing, wrong]) {
      expect(error.message).toContain(file);
      expect(error.message).not.toContain("\n");
      expect(error.message).not.toContain(KEY);
      expect(error.message).not.toContain(OTHER_KEY);
    }
  });

  it("rejects a key that is not 32 bytes of base64, without echoing it", () => {
    for (const key of ["not base64 at all!", Buffer.alloc(16, 1).toString("base64")]) {
      const error = catchOpen({ file, key });
      expect(error.problem).toBe(SqliteStoreProblem.BadKey);
      expect(error.message).not.toContain(key);
    }
  });

  it("encrypts what an unkeyed store holds when first opened with a key; then the key is required", async () => {
    const plain = open();
    const record = makeRecord({ id: "s-1", credentials: ["sk-test-client-upgrade-FFFF"] });
    await plain.set(record);
    plain.close();
    const keyed = open({ key: KEY });
    expect(await keyed.get("s-1")).toEqual(record);
    keyed.close();
    // VACUUM drops the freed pages that still held the old plaintext.
    const db = new DatabaseSync(file);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM");
    db.close();
    expect(bytesOnDisk()).not.toContain("sk-test-client-upgrade-FFFF");
    expect(catchOpen({ file }).problem).toBe(SqliteStoreProblem.KeyRequired);
  });

  it("does not open a sealed value moved to another session's row", async () => {
    const store = open({ key: KEY });
    await store.set(makeRecord({ id: "s-1", credentials: ["sk-test-one-GGGG"] }));
    await store.set(makeRecord({ id: "s-2", credentials: ["sk-test-two-HHHH"] }));
    store.close();
    const db = new DatabaseSync(file);
    db.exec("UPDATE sessions SET credentials = (SELECT credentials FROM sessions WHERE id = 's-1') WHERE id = 's-2'");
    db.close();
    const error = await open({ key: KEY }).get("s-2").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect(((error as ChatbotError).cause as SqliteStoreError).problem).toBe(SqliteStoreProblem.Corrupt);
  });
});

describe("a disk that refuses writes", () => {
  it("a full store rejects the turn with Unavailable 'session store unavailable' and keeps the session as it was", async () => {
    const store = open({ maxBytes: 64 * 1024 });
    await store.set(makeRecord({ id: "s-1", turns: 2 }));
    const before = (await store.get("s-1"))!;
    const record = (await store.get("s-1"))!;
    record.history.push({ role: "user", content: "x".repeat(200_000), tokens: 1 }, ...turn(3).slice(1));
    record.lastActiveAt += 1;
    const error = await store.set(record).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect((error as ChatbotError).message).toBe("session store unavailable");
    expect(((error as ChatbotError).cause as SqliteStoreError).problem).toBe(SqliteStoreProblem.Unavailable);
    expect(String(((error as ChatbotError).cause as Error).message)).toMatch(/full/);
    expect(await store.get("s-1")).toEqual(before);
    // Still serving: a small turn fits.
    const small = (await store.get("s-1"))!;
    small.history.push(...turn(4));
    await store.set(small);
    expect(await store.get("s-1")).toEqual(small);
  });

  it("a read-only database rejects writes with Unavailable and still serves reads", async () => {
    const writer = open();
    await writer.set(makeRecord({ id: "s-1", turns: 1 }));
    writer.close();
    const db = new DatabaseSync(file, { readOnly: true });
    const store = new SqliteSessionStore({ table: new SessionTable({ db, file, cipher: undefined }) });
    opened.push(store);
    const record = (await store.get("s-1"))!;
    record.history.push(...turn(2));
    const error = await store.set(record).catch((e: unknown) => e);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect(String(((error as ChatbotError).cause as Error).message)).toMatch(/readonly/);
    expect((await store.get("s-1"))!.history).toHaveLength(2);
  });

  it("a folder that cannot be created stops the open as Unavailable naming the file", () => {
    openDatabase({ file: join(folder.path, "x.db") }).close();
    // A regular file where the folder should be: mkdir fails even for root.
    const error = catchOpen({ file: join(folder.path, "x.db", "sessions.db") });
    expect(error.problem).toBe(SqliteStoreProblem.Unavailable);
    expect(error.message).toContain(join(folder.path, "x.db", "sessions.db"));
  });
});

function catchOpen(options: SqliteSessionStoreOptions): SqliteStoreError {
  try {
    openSqliteSessionStore(options).close();
  } catch (error) {
    expect(error).toBeInstanceOf(SqliteStoreError);
    return error as SqliteStoreError;
  }
  throw new Error("the store opened");
}
