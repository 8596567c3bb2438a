import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { describeCoordinatorConformance } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeRecord, tempFolder, turn } from "../test/fixtures.js";
import { SessionTable } from "./session-table.js";
import { SqliteCoordinator } from "./sqlite-coordinator.js";
import { openSqliteSessionStore, SqliteSessionStore } from "./sqlite-session-store.js";
import { type SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

let folder: ReturnType<typeof tempFolder>;
let file: string;
const opened: SqliteSessionStore[] = [];

function openStore(): SqliteSessionStore {
  const store = openSqliteSessionStore({ file });
  opened.push(store);
  return store;
}

beforeEach(() => {
  folder = tempFolder();
  file = join(folder.path, "state", "sessions.db");
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  folder.cleanup();
});

describeCoordinatorConformance("SQLite", () => {
  let now = 1_700_000_000_000;
  const store = openStore();
  return {
    coordinator: new SqliteCoordinator({ store, now: () => now }),
    advance: (ms) => {
      now += ms;
    },
    close: () => store.close(),
  };
});

/** A coordinator on a freshly opened store, at a clock the test sets: one start of the program. */
function start(at: { now: number }): SqliteCoordinator {
  return new SqliteCoordinator({ store: openStore(), now: () => at.now });
}

function restart(at: { now: number }): SqliteCoordinator {
  for (const store of opened.splice(0)) store.close();
  return start(at);
}

describe("SqliteCoordinator across a restart", () => {
  it("keeps a cooldown still running: refused after the restart until its interval has passed", async () => {
    const clock = { now: 1_700_000_000_000 };
    const before = start(clock);
    expect(await before.acquireCredential({ credentials: ["sk-test-cool-1111"], intervalMs: 60_000 })).toEqual({
      ok: true,
      credential: "sk-test-cool-1111",
    });
    clock.now += 10_000;
    const after = restart(clock);
    expect(await after.acquireCredential({ credentials: ["sk-test-cool-1111"], intervalMs: 60_000 })).toEqual({
      ok: false,
      retryAfterMs: 50_000,
    });
    // Another credential was never used: free.
    expect((await after.acquireCredential({ credentials: ["sk-test-cool-2222"], intervalMs: 60_000 })).ok).toBe(true);
    clock.now += 50_000;
    expect((await after.acquireCredential({ credentials: ["sk-test-cool-1111"], intervalMs: 60_000 })).ok).toBe(true);
  });

  it("stores only a salted hash of each credential, never the credential", async () => {
    const coordinator = start({ now: 1_700_000_000_000 });
    await coordinator.acquireCredential({ credentials: ["sk-test-never-on-disk-ABCD"], intervalMs: 1_000 });
    for (const store of opened.splice(0)) store.close();
    const disk = readdirSync(dirname(file))
      .map((name) => readFileSync(join(dirname(file), name)).toString("latin1"))
      .join("\n");
    expect(disk).not.toContain("sk-test-never-on-disk-ABCD");
    const db = new DatabaseSync(file, { readOnly: true });
    const rows = db.prepare("SELECT credential_hash, last_used_at FROM cooldowns").all() as Array<{
      credential_hash: Uint8Array;
    }>;
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.credential_hash).toHaveLength(32);
  });

  it("issues fencing tokens above every fence the file holds, even when the clock went back", async () => {
    const store = openStore();
    await store.create(makeRecord({ id: "s-1", turns: 1 }));
    // An earlier process whose clock was an hour ahead.
    const ahead = (1_700_000_000_000 + 3_600_000) * 1000;
    expect(
      await store.appendTurn("s-1", ahead, { drop: 0, append: turn(1), conversation: null, lastActiveAt: 1 }),
    ).toBe("written");
    const coordinator = restart({ now: 1_700_000_000_000 });
    const lease = await coordinator.acquireTurn({ sessionId: "s-1" });
    expect(lease.token).toBeGreaterThan(ahead);
    const reopened = opened[0]!;
    const write = { drop: 0, append: turn(2), conversation: null, lastActiveAt: 2 };
    expect(await reopened.appendTurn("s-1", lease.token, write)).toBe("written");
    await lease.release();
  });

  it("a stored last use ahead of the clock (the clock went back) waits at most one interval", async () => {
    const clock = { now: 1_700_000_000_000 + 3_600_000 };
    await start(clock).acquireCredential({ credentials: ["sk-test-skew-1111"], intervalMs: 5_000 });
    clock.now -= 3_600_000;
    const after = restart(clock);
    const refused = await after.acquireCredential({ credentials: ["sk-test-skew-1111"], intervalMs: 5_000 });
    expect(refused).toEqual({ ok: false, retryAfterMs: 5_000 });
  });

  it("a use that cannot be written grants nothing: Unavailable 'session store unavailable'", async () => {
    start({ now: 1_700_000_000_000 });
    for (const store of opened.splice(0)) store.close();
    // The salt exists from the first start; a read-only connection can read it but not record a use.
    const db = new DatabaseSync(file, { readOnly: true });
    const store = new SqliteSessionStore({ table: new SessionTable({ db, file, cipher: undefined }) });
    opened.push(store);
    const coordinator = new SqliteCoordinator({ store, now: () => 1_700_000_000_000 });
    const error = await coordinator
      .acquireCredential({ credentials: ["sk-test-ro-1111"], intervalMs: 1_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.Unavailable);
    expect((error as ChatbotError).message).toBe("session store unavailable");
    expect(((error as ChatbotError).cause as SqliteStoreError).problem).toBe(SqliteStoreProblem.Unavailable);
    // Not recorded in memory either: nothing was handed out.
    const again = await coordinator
      .acquireCredential({ credentials: ["sk-test-ro-1111"], intervalMs: 1_000 })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ChatbotError);
  });
});
