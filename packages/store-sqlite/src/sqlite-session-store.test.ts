import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges } from "node:sqlite";
import { ChatbotError, ErrorCode, type SessionRecord, type TurnWrite } from "@chatgptchatbot/core";
import { describeSessionStoreConformance } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeRecord, tempFolder, turn } from "../test/fixtures.js";
import { openDatabase } from "./database.js";
import { JOURNAL_FOLD_ROWS, SessionTable } from "./session-table.js";
import { openSqliteSessionStore, SqliteSessionStore, type SqliteSessionStoreOptions } from "./sqlite-session-store.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER_KEY = Buffer.alloc(32, 9).toString("base64");

let folder: ReturnType<typeof tempFolder>;
let file: string;
const opened: SqliteSessionStore[] = [];

/** How each store was opened, so `reopen` opens the file the same way. */
const openedWith = new WeakMap<SqliteSessionStore, Partial<SqliteSessionStoreOptions>>();

function openStore(options: Partial<SqliteSessionStoreOptions> = {}): SqliteSessionStore {
  const store = openSqliteSessionStore({ file, ...options });
  opened.push(store);
  openedWith.set(store, options);
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
    CREATE TRIGGER audit_ji AFTER INSERT ON turn_journal BEGIN INSERT INTO audit VALUES ('journal insert'); END;
    CREATE TRIGGER audit_jd AFTER DELETE ON turn_journal BEGIN INSERT INTO audit VALUES ('journal delete'); END;
  `);
  return {
    counts: () => {
      const rows = db.prepare("SELECT op, count(*) AS n FROM audit GROUP BY op").all() as Array<{
        op: string;
        n: number;
      }>;
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

for (const cache of [true, false]) {
  describeSessionStoreConformance(`SQLite (cache: ${cache})`, () => {
    const store = openStore({ cache });
    return { store, close: () => store.close() };
  });
}

/** The pool's turn: the prompt and its reply appended, the oldest `drop` entries dropped. */
function chat(n: number, drop = 0): TurnWrite {
  return { drop, append: turn(n), conversation: { conversationId: "c", turn: n }, lastActiveAt: 1_700_000_100_000 + n };
}

describe.each([{ cache: true }, { cache: false }])("SqliteSessionStore (cache: $cache)", ({ cache }) => {
  const open = (options: Partial<SqliteSessionStoreOptions> = {}): SqliteSessionStore =>
    openStore({ cache, ...options });

  it("round-trips every field of a record, across a reopen", async () => {
    const record = { ...makeRecord({ id: "s-1", turns: 3 }), initialResponse: "Hi chat!" };
    const store = open();
    await store.create(record);
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
      config: {
        ...base.config,
        model: undefined,
        temperature: undefined,
        kind: "access-token",
        version: 1,
        filter: false,
      },
      conversation: null,
    };
    const store = open();
    await store.create(record);
    expect(await store.get("s-2")).toEqual(record);
    store.close();
    expect(await open().get("s-2")).toEqual(record);
  });

  it(`stores a chat turn as ${cache ? "one journal row, folded later into" : ""} one update and an insert per new message, rewriting nothing already stored`, async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 10 }));
    await store.create(makeRecord({ id: "s-other", turns: 10 }));
    await store.get("s-1"); // as a chat reads it before its turn
    const audit = installAudit();

    expect(await store.appendTurn("s-1", 1, chat(10))).toBe("written");
    expect(audit.counts()).toEqual(cache ? { "journal insert": 1 } : { "session update": 1, "message insert": 2 });

    // A turn that drops the oldest turn from the budget: two deletes, two inserts.
    expect(await store.appendTurn("s-1", 2, chat(11, 2))).toBe("written");
    if (cache) {
      expect(audit.counts()).toEqual({ "journal insert": 1 });
      // Folded: the session's row updated once for both turns, the dropped turn deleted, the new messages inserted.
      expect(store.table.foldJournal()).toBe(2);
      expect(audit.counts()).toEqual({
        "session update": 1,
        "message delete": 2,
        "message insert": 4,
        "journal delete": 2,
      });
    } else {
      expect(audit.counts()).toEqual({ "session update": 1, "message insert": 2, "message delete": 2 });
    }

    const expected = makeRecord({ id: "s-1", turns: 12 }).history.slice(2);
    await beforeAndAfterReopen(store, async (reader) => {
      const after = (await reader.get("s-1"))!;
      expect(after.history).toEqual(expected);
      expect(after.conversation).toEqual({ conversationId: "c", turn: 11 });
      expect(after.lastActiveAt).toBe(1_700_000_100_011);
      // The other session was never touched.
      expect((await reader.get("s-other"))!.history).toEqual(makeRecord({ id: "s-other", turns: 10 }).history);
    });
  });

  it("drops every entry when asked to drop more than are stored, and appends after", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    expect(await store.appendTurn("s-1", 1, chat(5, 10))).toBe("written");
    expect((await store.get("s-1"))!.history).toEqual(turn(5));
    expect((await reopen(store).get("s-1"))!.history).toEqual(turn(5));
  });

  it("renews: the stored history deleted, the new conversation kept, and appending goes on after", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 4 }));
    const fresh = { initialResponse: "fresh start", conversation: { conversationId: "new" }, conversationStartedAt: 9 };
    expect(await store.renew("s-1", 1, fresh)).toBe("written");
    expect(await store.appendTurn("s-1", 2, chat(1))).toBe("written");
    await beforeAndAfterReopen(store, async (reader) => {
      const after = (await reader.get("s-1"))!;
      expect(after.history).toEqual(turn(1));
      expect(after.initialResponse).toBe("fresh start");
      expect(after.conversationStartedAt).toBe(9);
    });
  });

  it("keeps each session's highest accepted fence across a reopen: a stale writer is refused after a restart", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.create(makeRecord({ id: "s-2", turns: 1 }));
    expect(await store.appendTurn("s-1", 5_000, chat(1))).toBe("written");
    const again = reopen(store);
    expect(await again.appendTurn("s-1", 4_999, chat(2))).toBe("stale");
    expect(await again.renew("s-1", 4_999, { initialResponse: "", conversation: null, conversationStartedAt: 1 })).toBe(
      "stale",
    );
    expect(await again.appendTurn("s-2", 1, chat(2))).toBe("written");
    expect((await again.get("s-1"))!.history).toEqual([...turn(0), ...turn(1)]);
    expect(await again.appendTurn("s-1", 5_000, chat(2))).toBe("written");
    expect(again.table.highestFence()).toBe(5_000);
  });

  it("deletes a session with its history", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    await store.create(makeRecord({ id: "s-2", turns: 2 }));
    expect(await store.delete("s-1")).toBe(true);
    expect(await store.delete("s-1")).toBe(false);
    expect(await store.get("s-1")).toBeUndefined();
    expect(await store.size()).toBe(1);
    const db = new DatabaseSync(file, { readOnly: true });
    expect(db.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({ n: 4 });
    db.close();
  });

  it("lists every session, and sessions created or deleted after a list", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    const again = reopen(store);
    expect((await again.list()).map((r) => r.id)).toEqual(["s-1"]);
    await again.create(makeRecord({ id: "s-2" }));
    expect(await again.appendTurn("s-1", 1, chat(1))).toBe("written");
    expect((await again.list()).map((r) => [r.id, r.history.length]).sort()).toEqual([
      ["s-1", 4],
      ["s-2", 0],
    ]);
    await again.delete("s-1");
    expect((await again.list()).map((r) => r.id)).toEqual(["s-2"]);
    expect(await again.get("s-1")).toBeUndefined();
  });

  it("a listed session's history is read when first used, and includes turns written before that", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    await store.create(makeRecord({ id: "s-2", turns: 1 }));
    const again = reopen(store);
    const listed = await again.list();
    expect(listed.map((r) => r.id).sort()).toEqual(["s-1", "s-2"]);
    expect(await again.appendTurn("s-1", 1, chat(5, 2))).toBe("written");
    expect(await again.renew("s-2", 1, { initialResponse: "new", conversation: null, conversationStartedAt: 7 })).toBe(
      "written",
    );
    expect((await again.get("s-1"))!.history).toEqual([...turn(1), ...turn(5)]);
    expect((await again.get("s-1"))!.conversation).toEqual({ conversationId: "c", turn: 5 });
    expect((await again.get("s-2"))!.history).toEqual([]);
    expect((await again.get("s-2"))!.initialResponse).toBe("new");
    // Read now: later turns go by the read placement.
    expect(await again.appendTurn("s-1", 2, chat(6, 2))).toBe("written");
    expect((await again.get("s-1"))!.history).toEqual([...turn(5), ...turn(6)]);
    expect(JSON.parse(JSON.stringify(await again.list()))).toEqual(
      JSON.parse(JSON.stringify(await reopen(again).list())),
    );
  });

  it("lists activity without reading histories", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2, now: 1000 }));
    expect(await store.listActivity()).toEqual([
      { id: "s-1", createdAt: 1000, conversationStartedAt: 1001, lastActiveAt: 1002 },
    ]);
  });
});

/** What a group commit test looks at: the transactions the store's connection ran. */
interface TransactionCounts {
  begin: number;
  commit: number;
  rollback: number;
}

/**
 * A store whose connection counts the BEGIN, COMMIT and ROLLBACK statements it
 * runs (attempts, failed ones too), on the same file as `openStore`.
 */
function openCountingStore({
  cache,
  ...options
}: { cache: boolean } & Pick<SqliteSessionStoreOptions, "maxBytes" | "busyTimeoutMs">): {
  store: SqliteSessionStore;
  counts: () => TransactionCounts;
} {
  const db = openDatabase({ file, ...options });
  let counts: TransactionCounts = { begin: 0, commit: 0, rollback: 0 };
  const kindOf = (sql: string): keyof TransactionCounts | undefined => {
    if (/^\s*BEGIN\b/i.test(sql)) return "begin";
    if (/^\s*(COMMIT|END)\b/i.test(sql)) return "commit";
    if (/^\s*ROLLBACK\s*(TRANSACTION\s*)?;?\s*$/i.test(sql)) return "rollback";
    return undefined;
  };
  const counted = new Proxy(db, {
    get(target, property) {
      if (property === "prepare") {
        return (sql: string) => {
          const statement = target.prepare(sql);
          const kind = kindOf(sql);
          if (kind !== undefined) {
            const run = statement.run.bind(statement) as (...args: SQLInputValue[]) => StatementResultingChanges;
            statement.run = ((...args: SQLInputValue[]) => {
              counts[kind]++;
              return run(...args);
            }) as typeof statement.run;
          }
          return statement;
        };
      }
      if (property === "exec") {
        return (sql: string) => {
          const kind = kindOf(sql);
          if (kind !== undefined) counts[kind]++;
          return target.exec(sql);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const store = new SqliteSessionStore({ table: new SessionTable({ db: counted, file, cipher: undefined }), cache });
  opened.push(store);
  return {
    store,
    counts: () => {
      const seen = counts;
      counts = { begin: 0, commit: 0, rollback: 0 };
      return seen;
    },
  };
}

/** Histories as stored, read by a fresh store on the file (what a restart reads). */
async function historiesOnDisk(ids: readonly string[]): Promise<Record<string, unknown>> {
  const reader = openSqliteSessionStore({ file, cache: false });
  try {
    const entries = await Promise.all(ids.map(async (id) => [id, (await reader.get(id))?.history] as const));
    return Object.fromEntries(entries);
  } finally {
    reader.close();
  }
}

/** On disk after a group of chat(3) turns to s-1, s-2, s-3 where s-2's failed: s-1 and s-3 grown by the turn, s-2 as it was. */
async function expectOnlyS2Unwritten(s2Before: unknown): Promise<void> {
  const grown = [...makeRecord({ id: "x", turns: 3 }).history, ...turn(3)];
  expect(await historiesOnDisk(["s-1", "s-2", "s-3"])).toEqual({ "s-1": grown, "s-2": s2Before, "s-3": grown });
}

function unavailable(error: unknown): SqliteStoreError {
  expect(error).toBeInstanceOf(ChatbotError);
  expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
  expect((error as ChatbotError).message).toBe("session store unavailable");
  expect((error as ChatbotError).cause).toBeInstanceOf(SqliteStoreError);
  return (error as ChatbotError).cause as SqliteStoreError;
}

describe.each([{ cache: true }, { cache: false }])("group commit of chat turns (cache: $cache)", ({ cache }) => {
  const ids = ["s-1", "s-2", "s-3", "s-4", "s-5"];

  async function withSessions(options: Pick<SqliteSessionStoreOptions, "maxBytes" | "busyTimeoutMs"> = {}) {
    const opened = openCountingStore({ cache, ...options });
    for (const id of ids) await opened.store.create(makeRecord({ id, turns: 3 }));
    // Histories read, as a chat's get does before its turn: the turns go by placement when cached.
    for (const id of ids) await opened.store.get(id);
    opened.counts();
    return opened;
  }

  it("commits concurrent turns of several sessions in one transaction, each turn's statements as when alone", async () => {
    const { store, counts } = await withSessions();
    const audit = installAudit();
    const outcomes = await Promise.all(ids.map((id) => store.appendTurn(id, 1, chat(3, 2))));
    expect(outcomes).toEqual(ids.map(() => "written"));
    expect(counts()).toEqual({ begin: 1, commit: 1, rollback: 0 });
    // Per turn, as in "stores a chat turn as…": a journal row (cache), or one update, two deletes, two inserts.
    expect(audit.counts()).toEqual(
      cache ? { "journal insert": 5 } : { "session update": 5, "message delete": 10, "message insert": 10 },
    );
    const expected = makeRecord({ id: "x", turns: 4 }).history.slice(2);
    for (const id of ids) expect((await store.get(id))!.history).toEqual(expected);
    expect(await historiesOnDisk(ids)).toEqual(Object.fromEntries(ids.map((id) => [id, expected])));

    // A lone turn (c=1) is its own transaction, as before.
    expect(await store.appendTurn("s-1", 2, chat(4))).toBe("written");
    expect(counts()).toEqual({ begin: 1, commit: 1, rollback: 0 });
  });

  it("refuses a stale or deleted session's turn in the middle of a group alone; the others commit", async () => {
    const { store, counts } = await withSessions();
    expect(await store.appendTurn("s-2", 100, chat(3))).toBe("written");
    const s2 = structuredClone((await store.get("s-2"))!.history);
    counts();
    const outcomes = await Promise.all([
      store.appendTurn("s-1", 5, chat(4)),
      store.appendTurn("s-2", 50, chat(4)),
      store.appendTurn("gone", 5, chat(4)),
      store.appendTurn("s-3", 5, chat(4)),
    ]);
    expect(outcomes).toEqual(["written", "stale", "not-found", "written"]);
    expect(counts()).toEqual({ begin: 1, commit: 1, rollback: 0 });
    const grown = [...makeRecord({ id: "x", turns: 3 }).history, ...turn(4)];
    expect((await store.get("s-2"))!.history).toEqual(s2);
    expect((await store.get("s-2"))!.conversation).toEqual({ conversationId: "c", turn: 3 });
    expect(await historiesOnDisk(["s-1", "s-2", "s-3"])).toEqual({ "s-1": grown, "s-2": s2, "s-3": grown });
  });

  it("a turn that fails in a group (a trigger refuses it) fails only its caller; the group is retried turn by turn", async () => {
    const { store, counts } = await withSessions();
    const db = new DatabaseSync(file);
    db.exec(`CREATE TRIGGER refuse_s2 BEFORE UPDATE ON sessions WHEN NEW.id = 's-2'
               BEGIN SELECT RAISE(ABORT, 'simulated failure of one write'); END;
             CREATE TRIGGER refuse_s2_journal BEFORE INSERT ON turn_journal
               WHEN NEW.sid = (SELECT sid FROM sessions WHERE id = 's-2')
               BEGIN SELECT RAISE(ABORT, 'simulated failure of one write'); END`);
    db.close();
    const before = structuredClone(await store.get("s-2"));
    const settled = await Promise.allSettled(["s-1", "s-2", "s-3"].map((id) => store.appendTurn(id, 1, chat(3))));
    expect(settled[0]).toEqual({ status: "fulfilled", value: "written" });
    expect(settled[2]).toEqual({ status: "fulfilled", value: "written" });
    expect(settled[1]!.status).toBe("rejected");
    const cause = unavailable((settled[1] as PromiseRejectedResult).reason);
    expect(cause.message).toContain("simulated failure of one write");
    // The group (rolled back), then each alone: two commits, s-2's rolled back.
    expect(counts()).toEqual({ begin: 4, commit: 2, rollback: 2 });
    expect(await store.get("s-2")).toEqual(before);
    await expectOnlyS2Unwritten(before!.history);
  });

  it("a turn that does not fit a full store fails alone; the group's other turns commit", async () => {
    const { store } = await withSessions({ maxBytes: 96 * 1024 });
    const before = structuredClone(await store.get("s-2"));
    const huge: TurnWrite = { ...chat(3), append: [{ role: "user", content: "x".repeat(200_000), tokens: 1 }] };
    const settled = await Promise.allSettled([
      store.appendTurn("s-1", 1, chat(3)),
      store.appendTurn("s-2", 1, huge),
      store.appendTurn("s-3", 1, chat(3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(unavailable((settled[1] as PromiseRejectedResult).reason).message).toMatch(/full/);
    expect(await store.get("s-2")).toEqual(before);
    await expectOnlyS2Unwritten(before!.history);
  });

  it("when the group cannot even begin (the lock is held elsewhere), each caller fails once, without a retry per turn", async () => {
    const { store, counts } = await withSessions({ busyTimeoutMs: 0 });
    const other = new DatabaseSync(file);
    other.exec("BEGIN IMMEDIATE");
    const settled = await Promise.allSettled(["s-1", "s-2", "s-3"].map((id) => store.appendTurn(id, 1, chat(3))));
    for (const result of settled) {
      expect(result.status).toBe("rejected");
      expect(unavailable((result as PromiseRejectedResult).reason).message).toMatch(/locked|busy/i);
    }
    expect(counts()).toEqual({ begin: 1, commit: 0, rollback: 0 });
    other.exec("ROLLBACK");
    other.close();
    // Nothing was written, nothing cached: the same turns go through now.
    expect(await Promise.all(["s-1", "s-2", "s-3"].map((id) => store.appendTurn(id, 1, chat(3))))).toEqual([
      "written",
      "written",
      "written",
    ]);
    expect((await store.get("s-1"))!.history).toEqual([...makeRecord({ id: "x", turns: 3 }).history, ...turn(3)]);
  });

  it("a second turn of a session already queued commits the first one's group first, then goes on from it", async () => {
    const { store, counts } = await withSessions();
    const outcomes = await Promise.all([
      store.appendTurn("s-1", 1, chat(3, 2)),
      store.appendTurn("s-2", 1, chat(3)),
      store.appendTurn("s-1", 2, chat(4, 2)),
      store.appendTurn("s-3", 1, chat(3)),
    ]);
    expect(outcomes).toEqual(["written", "written", "written", "written"]);
    // [s-1, s-2], then [s-1, s-3].
    expect(counts()).toEqual({ begin: 2, commit: 2, rollback: 0 });
    const s1 = makeRecord({ id: "x", turns: 5 }).history.slice(4);
    const grown = [...makeRecord({ id: "x", turns: 3 }).history, ...turn(3)];
    expect((await store.get("s-1"))!.history).toEqual(s1);
    expect((await store.get("s-1"))!.conversation).toEqual({ conversationId: "c", turn: 4 });
    expect(await historiesOnDisk(["s-1", "s-2", "s-3"])).toEqual({ "s-1": s1, "s-2": grown, "s-3": grown });
  });

  it("keeps call order: a read of a queued session sees its turn, and no other write overtakes a queued turn", async () => {
    const { store } = await withSessions();
    const grown = [...makeRecord({ id: "x", turns: 3 }).history, ...turn(3)];
    const written = store.appendTurn("s-1", 1, chat(3));
    expect((await store.get("s-1"))!.history).toEqual(grown);
    expect(await written).toBe("written");

    // A delete called after a queued turn comes after it: the turn is written, then the session deleted.
    const turned = store.appendTurn("s-2", 1, chat(3));
    const deleted = store.delete("s-2");
    expect(await turned).toBe("written");
    expect(await deleted).toBe(true);

    // A renew after a queued turn empties the history the turn grew.
    const before = store.appendTurn("s-3", 1, chat(3));
    const renewed = store.renew("s-3", 2, { initialResponse: "new", conversation: null, conversationStartedAt: 9 });
    expect([await before, await renewed]).toEqual(["written", "written"]);
    expect((await store.get("s-3"))!.history).toEqual([]);

    const listed = store.appendTurn("s-4", 1, chat(3));
    const activity = await store.listActivity();
    expect(activity.find((a) => a.id === "s-4")!.lastActiveAt).toBe(chat(3).lastActiveAt);
    expect(await listed).toBe("written");
    expect(await historiesOnDisk(["s-1", "s-2", "s-3", "s-4"])).toEqual({
      "s-1": grown,
      "s-2": undefined,
      "s-3": [],
      "s-4": grown,
    });
  });

  it("close() commits the queued turns before closing, and a turn after close fails as Unavailable", async () => {
    const { store, counts } = await withSessions();
    const queued = ["s-1", "s-2", "s-3"].map((id) => store.appendTurn(id, 1, chat(3)));
    store.close();
    expect(await Promise.all(queued)).toEqual(["written", "written", "written"]);
    // The group, then (cache) the fold of its journal rows: the file is left without a journal.
    expect(counts()).toEqual(cache ? { begin: 2, commit: 2, rollback: 0 } : { begin: 1, commit: 1, rollback: 0 });
    unavailable(await store.appendTurn("s-4", 1, chat(3)).catch((e: unknown) => e));
    const grown = [...makeRecord({ id: "x", turns: 3 }).history, ...turn(3)];
    expect(await historiesOnDisk(["s-1", "s-2", "s-3", "s-4"])).toEqual({
      "s-1": grown,
      "s-2": grown,
      "s-3": grown,
      "s-4": makeRecord({ id: "x", turns: 3 }).history,
    });
  });
});

/** Runs `check` on the store, then on the same file reopened (what a restart reads). */
async function beforeAndAfterReopen(
  store: SqliteSessionStore,
  check: (reader: SqliteSessionStore) => Promise<void>,
): Promise<void> {
  await check(store);
  await check(reopen(store));
}

/** Closes a store and opens the same file again, the same way (a restart). */
function reopen(store: SqliteSessionStore): SqliteSessionStore {
  store.close();
  return openStore(openedWith.get(store));
}

const open = openStore;

describe("the turn journal (cache: true)", () => {
  /** What the file holds, read on a connection of its own. */
  function onDisk(): { journal: number; messages: number } {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const journal = (db.prepare("SELECT count(*) AS n FROM turn_journal").get() as { n: number }).n;
      const messages = (db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
      return { journal, messages };
    } finally {
      db.close();
    }
  }

  it("folds turns still in the journal when the file is next opened (a stop without close, a crash)", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    await store.get("s-1");
    for (let n = 2; n < 5; n++) expect(await store.appendTurn("s-1", 10 + n, chat(n, 2))).toBe("written");
    // Not closed: the three turns are committed in the journal only.
    expect(onDisk()).toEqual({ journal: 3, messages: 4 });

    const again = openStore({});
    expect(onDisk()).toEqual({ journal: 0, messages: 4 });
    const after = (await again.get("s-1"))!;
    expect(after.history).toEqual([...turn(3), ...turn(4)]);
    expect(after.conversation).toEqual({ conversationId: "c", turn: 4 });
    expect(after.lastActiveAt).toBe(chat(4).lastActiveAt);
    expect(again.table.highestFence()).toBe(14);
    expect(await again.appendTurn("s-1", 13, chat(5))).toBe("stale");
  });

  it("reads the activity and the highest fence of journaled turns without folding them (a read writes nothing)", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1, now: 1000 }));
    await store.create(makeRecord({ id: "s-2", turns: 1, now: 2000 }));
    await store.get("s-1");
    for (let n = 1; n < 4; n++) expect(await store.appendTurn("s-1", 40 + n, chat(n))).toBe("written");
    const activity = await store.listActivity();
    expect(activity.find((a) => a.id === "s-1")!.lastActiveAt).toBe(chat(3).lastActiveAt);
    expect(activity.find((a) => a.id === "s-2")!.lastActiveAt).toBe(2002);
    expect(store.table.highestFence()).toBe(43);
    expect(onDisk()).toEqual({ journal: 3, messages: 4 });
  });

  it("folds a busy session's turns together: one update, one range delete, and only the messages still kept", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    await store.get("s-1");
    const audit = installAudit();
    for (let n = 2; n < 12; n++) expect(await store.appendTurn("s-1", n, chat(n, 2))).toBe("written");
    expect(store.table.foldJournal()).toBe(10);
    // Ten turns of two messages; the last two turns' four are kept, the four stored before are dropped.
    expect(audit.counts()).toEqual({
      "journal insert": 10,
      "session update": 1,
      "message delete": 4,
      "message insert": 4,
      "journal delete": 10,
    });
    expect(await historiesOnDisk(["s-1"])).toEqual({ "s-1": [...turn(10), ...turn(11)] });
  });

  it(`folds by itself once ${JOURNAL_FOLD_ROWS} turns wait`, async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.get("s-1");
    for (let n = 1; n < JOURNAL_FOLD_ROWS; n++) await store.appendTurn("s-1", n, chat(n, 2));
    expect(onDisk()).toEqual({ journal: JOURNAL_FOLD_ROWS - 1, messages: 2 });
    await store.appendTurn("s-1", JOURNAL_FOLD_ROWS, chat(JOURNAL_FOLD_ROWS, 2));
    expect(onDisk()).toEqual({ journal: 0, messages: 2 });
    expect((await store.get("s-1"))!.history).toEqual(turn(JOURNAL_FOLD_ROWS));
    expect(await historiesOnDisk(["s-1"])).toEqual({ "s-1": turn(JOURNAL_FOLD_ROWS) });
  });

  it("a fold that fails is told to onFoldError; the turns stay journaled and the next fold takes them", async () => {
    const failures: SqliteStoreError[] = [];
    const store = open({ onFoldError: (error) => failures.push(error) });
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.get("s-1");
    const db = new DatabaseSync(file);
    db.exec(
      `CREATE TRIGGER refuse_fold BEFORE DELETE ON turn_journal BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;`,
    );
    for (let n = 1; n <= JOURNAL_FOLD_ROWS; n++) await store.appendTurn("s-1", n, chat(n, 2));
    expect(failures.map((error) => [error.problem, error.file, error.message])).toEqual([
      [SqliteStoreProblem.Unavailable, file, expect.stringMatching(/refused by the test/)],
    ]);
    expect(onDisk()).toEqual({ journal: JOURNAL_FOLD_ROWS, messages: 2 });
    // Every caller got "written", and reads are right, folded or not.
    expect((await store.get("s-1"))!.history).toEqual(turn(JOURNAL_FOLD_ROWS));
    db.exec("DROP TRIGGER refuse_fold");
    db.close();
    store.close(); // folds, this time without a word
    expect(failures).toHaveLength(1);
    expect(onDisk()).toEqual({ journal: 0, messages: 2 });
    expect((await reopen(store).get("s-1"))!.history).toEqual(turn(JOURNAL_FOLD_ROWS));
  });

  it("deleting a session deletes its journaled turns with it: a new session given its row id starts empty", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.get("s-1");
    expect(await store.appendTurn("s-1", 1, chat(1))).toBe("written");
    expect(await store.delete("s-1")).toBe(true);
    await store.create(makeRecord({ id: "s-2" }));
    const sids = new DatabaseSync(file, { readOnly: true });
    // (SQLite gives the new row the id the deleted one had: the case this guards.)
    expect(sids.prepare("SELECT sid FROM sessions").all()).toEqual([{ sid: 1 }]);
    sids.close();
    expect(onDisk()).toEqual({ journal: 0, messages: 0 });
    expect((await reopen(store).get("s-2"))!.history).toEqual([]);
  });

  it("renewing a session tests the fence its journaled turns raised and keeps their activity, not their messages", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.get("s-1");
    expect(await store.appendTurn("s-1", 50, chat(1))).toBe("written");
    const fresh = { initialResponse: "new", conversation: null, conversationStartedAt: 9 };
    expect(await store.renew("s-1", 49, fresh)).toBe("stale");
    expect(await store.renew("s-1", 51, fresh)).toBe("written");
    expect(onDisk()).toEqual({ journal: 0, messages: 0 });
    expect(await reopen(store).get("s-1")).toMatchObject({
      history: [],
      initialResponse: "new",
      conversation: null,
      lastActiveAt: chat(1).lastActiveAt,
    });
  });

  it("refuses to open a file whose journal holds an unreadable turn, naming the damage", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    store.close();
    const db = new DatabaseSync(file);
    db.prepare(
      "INSERT INTO turn_journal (sid, fence, first, next, entries, conversation, last_active_at) VALUES (1, 1, 0, 2, ?, NULL, 1)",
    ).run('[{"role":"system","content":"x","tokens":1}]');
    db.close();
    let error: unknown;
    try {
      openStore({});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SqliteStoreError);
    expect((error as SqliteStoreError).problem).toBe(SqliteStoreProblem.Corrupt);
    expect((error as SqliteStoreError).message).toContain("a journaled turn is unreadable");
  });
});

describe("credentials at rest", () => {
  it("never writes the server's default credentials; resolves them from the server at load", async () => {
    const serverCredentials = { apiKeys: ["sk-test-server-default-AAAA"] };
    const store = open({ serverCredentials });
    const record = makeRecord({ id: "s-1", credentials: ["sk-test-server-default-AAAA"], serverCredential: true });
    await store.create(record);
    store.close();
    expect(bytesOnDisk()).not.toContain("sk-test-server-default-AAAA");

    // The operator rotated the key: the session follows the server's current default.
    const rotated = open({ serverCredentials: { apiKeys: ["sk-test-server-rotated-BBBB"] } });
    expect((await rotated.get("s-1"))!.config).toEqual({
      ...record.config,
      credentials: ["sk-test-server-rotated-BBBB"],
    });
  });

  it("treats a session whose server credential is no longer configured as absent (it stays stored)", async () => {
    const store = open({ serverCredentials: { apiKeys: ["sk-test-server-default-AAAA"] } });
    await store.create(makeRecord({ id: "s-1", serverCredential: true, credentials: ["sk-test-server-default-AAAA"] }));
    store.close();
    const without = open({ serverCredentials: {} });
    expect(await without.get("s-1")).toBeUndefined();
    expect(await without.list()).toEqual([]);
    expect(await without.size()).toBe(1);
  });

  it("with CHATBOT_STORE_KEY, keeps client credentials only encrypted and reads them back with the key", async () => {
    const store = open({ key: KEY });
    const record = makeRecord({ id: "s-1", credentials: ["sk-test-client-secret-CCCC", "sk-test-client-secret-DDDD"] });
    await store.create(record);
    store.close();
    const disk = bytesOnDisk();
    expect(disk).not.toContain("sk-test-client-secret-CCCC");
    expect(disk).not.toContain("sk-test-client-secret-DDDD");
    expect(await open({ key: KEY }).get("s-1")).toEqual(record);
  });

  it("without a key, client credentials are stored plaintext in the owner-only file", async () => {
    const store = open();
    await store.create(makeRecord({ id: "s-1", credentials: ["sk-test-client-plain-EEEE"] }));
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
    await plain.create(record);
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
    await store.create(makeRecord({ id: "s-1", credentials: ["sk-test-one-GGGG"] }));
    await store.create(makeRecord({ id: "s-2", credentials: ["sk-test-two-HHHH"] }));
    store.close();
    const db = new DatabaseSync(file);
    db.exec("UPDATE sessions SET credentials = (SELECT credentials FROM sessions WHERE id = 's-1') WHERE id = 's-2'");
    db.close();
    const error = await open({ key: KEY })
      .get("s-2")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect(((error as ChatbotError).cause as SqliteStoreError).problem).toBe(SqliteStoreProblem.Corrupt);
  });
});

describe("named state values", () => {
  it("keeps a value across a reopen, sealed when the store has a key, and seals a plaintext one when a key is first given", async () => {
    const plain = open();
    await plain.writeState("http-default-session", '{"config":"sk-test-state-plain-IIII"}');
    plain.close();
    expect(bytesOnDisk()).toContain("sk-test-state-plain-IIII");

    const keyed = open({ key: KEY });
    expect(await keyed.readState("http-default-session")).toBe('{"config":"sk-test-state-plain-IIII"}');
    await keyed.writeState("http-default-session", '{"config":"sk-test-state-sealed-JJJJ"}');
    expect(await keyed.readState("nothing")).toBeUndefined();
    keyed.close();
    const db = new DatabaseSync(file);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM");
    db.close();
    const disk = bytesOnDisk();
    expect(disk).not.toContain("sk-test-state-plain-IIII");
    expect(disk).not.toContain("sk-test-state-sealed-JJJJ");
    expect(await open({ key: KEY }).readState("http-default-session")).toBe('{"config":"sk-test-state-sealed-JJJJ"}');
  });
});

describe("a disk that refuses writes", () => {
  it("a full store rejects the turn with Unavailable 'session store unavailable' and keeps the session as it was", async () => {
    const store = open({ maxBytes: 64 * 1024 });
    await store.create(makeRecord({ id: "s-1", turns: 2 }));
    const before = JSON.parse(JSON.stringify(await store.get("s-1")));
    const huge: TurnWrite = {
      ...chat(3, 2),
      append: [{ role: "user", content: "x".repeat(200_000), tokens: 1 }, turn(3)[1]!],
    };
    const error = await store.appendTurn("s-1", 1, huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect((error as ChatbotError).message).toBe("session store unavailable");
    expect(((error as ChatbotError).cause as SqliteStoreError).problem).toBe(SqliteStoreProblem.Unavailable);
    expect(String(((error as ChatbotError).cause as Error).message)).toMatch(/full/);
    expect(await store.get("s-1")).toEqual(before);
    // Still serving: a small turn fits.
    expect(await store.appendTurn("s-1", 1, chat(4))).toBe("written");
    expect((await store.get("s-1"))!.history).toEqual([...before.history, ...turn(4)]);
    expect((await reopen(store).get("s-1"))!.history).toEqual([...before.history, ...turn(4)]);
  });

  it("a store the journal filled still deletes; it opens again, every turn kept, once given room to fold", async () => {
    const foldFailures: string[] = [];
    const store = open({ maxBytes: 96 * 1024, onFoldError: (error) => foldFailures.push(error.message) });
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    await store.create(makeRecord({ id: "s-2", turns: 1 }));
    await store.get("s-1");
    const big = (n: number): TurnWrite => ({
      ...chat(n),
      append: [{ role: "user", content: `${n} ${"y".repeat(3_000)}`, tokens: 1 }, turn(n)[1]!],
    });
    let written = 0;
    for (let n = 1; n < 100; n++) {
      const outcome = await store.appendTurn("s-1", n, big(n)).catch(() => "full" as const);
      if (outcome === "full") break;
      written++;
    }
    expect(written).toBeGreaterThan(5);
    expect(written).toBeLessThan(99); // the store did fill up
    // A delete takes the session's journal rows with it and inserts nothing: it goes through.
    expect(await store.delete("s-2")).toBe(true);
    store.close(); // (its fold finds no room: the turns stay journaled, committed)
    expect(foldFailures).toEqual([expect.stringMatching(/full/)]);
    // Folding moves the turns' messages into the messages table, which takes more pages than the journal held:
    // a store too full for that does not open (and says why) rather than serve a history without them.
    const full = catchOpen({ file, maxBytes: 96 * 1024 });
    expect(full.problem).toBe(SqliteStoreProblem.Unavailable);
    expect(full.message).toMatch(/full/);
    const roomy = openStore({ maxBytes: 1024 * 1024 });
    const history = (await roomy.get("s-1"))!.history;
    expect(history).toHaveLength(2 + 2 * written);
    expect(history.at(-2)!.content.startsWith(`${written} `)).toBe(true);
    expect(await roomy.get("s-2")).toBeUndefined();
  });

  it("a read-only database rejects writes with Unavailable and still serves reads", async () => {
    const writer = open();
    await writer.create(makeRecord({ id: "s-1", turns: 1 }));
    writer.close();
    const db = new DatabaseSync(file, { readOnly: true });
    const store = new SqliteSessionStore({ table: new SessionTable({ db, file, cipher: undefined }) });
    opened.push(store);
    expect((await store.get("s-1"))!.history).toHaveLength(2);
    const error = await store.appendTurn("s-1", 1, chat(2)).catch((e: unknown) => e);
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
