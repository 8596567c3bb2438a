import { chmodSync, closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeRecord, tempFolder } from "../test/fixtures.js";
import { openDatabase } from "./database.js";
import { SCHEMA_VERSION } from "./schema.js";
import { openSqliteSessionStore } from "./sqlite-session-store.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

let folder: ReturnType<typeof tempFolder>;
let file: string;

beforeEach(() => {
  folder = tempFolder();
  file = join(folder.path, "nested", "state", "sessions.db");
});
afterEach(() => folder.cleanup());

const mode = (path: string): number => statSync(path).mode & 0o777;

function openError(path = file): SqliteStoreError {
  try {
    openDatabase({ file: path }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(SqliteStoreError);
    const typed = error as SqliteStoreError;
    // The one line the program prints: the file, then the problem.
    expect(typed.message.startsWith(`session store ${path}: `)).toBe(true);
    expect(typed.message).not.toContain("\n");
    return typed;
  }
  throw new Error("the database opened");
}

describe("openDatabase", () => {
  it("creates the folders 0700 and the file, -wal and -shm 0600, whatever the umask", async () => {
    const previous = process.umask(0o000);
    try {
      const store = openSqliteSessionStore({ file });
      await store.create(makeRecord({ id: "s-1", turns: 1 })); // a write, so the WAL exists
      expect(mode(join(folder.path, "nested", "state"))).toBe(0o700);
      expect(mode(join(folder.path, "nested"))).toBe(0o700);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path), path).toBe(0o600);
      store.close();
    } finally {
      process.umask(previous);
    }
  });

  it("tightens an existing store file that others could read", () => {
    openDatabase({ file }).close();
    chmodSync(file, 0o644);
    openDatabase({ file }).close();
    expect(mode(file)).toBe(0o600);
  });

  it("uses WAL, the busy timeout and the newest schema", () => {
    const db = openDatabase({ file, busyTimeoutMs: 1234 });
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.prepare("PRAGMA busy_timeout").get()).toEqual({ timeout: 1234 });
    expect(db.prepare("PRAGMA user_version").get()).toEqual({ user_version: SCHEMA_VERSION });
    expect(db.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 1 }); // NORMAL
    db.close();
    const full = openDatabase({ file, synchronous: "full" });
    expect(full.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
    full.close();
  });

  it("stops on a file that is not a database", () => {
    openDatabase({ file }).close();
    writeFileSync(file, "this is not a database, it is a note somebody left here ".repeat(100));
    const error = openError();
    expect(error.problem).toBe(SqliteStoreProblem.Corrupt);
    expect(error.detail).toMatch(/not a database/);
  });

  it("stops on a store whose pages are damaged", async () => {
    const store = openSqliteSessionStore({ file });
    for (let i = 0; i < 50; i++) await store.create(makeRecord({ id: `s-${i}`, turns: 5 }));
    store.close(); // the last connection checkpoints the WAL into the file
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(16 * 4096);
    // Scribble over a few pages in the middle (not the header page).
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 8 * 4096);
    closeSync(fd);
    const error = openError();
    expect(error.problem).toBe(SqliteStoreProblem.Corrupt);
  });

  it("stops on a truncated store", async () => {
    const store = openSqliteSessionStore({ file });
    for (let i = 0; i < 50; i++) await store.create(makeRecord({ id: `s-${i}`, turns: 5 }));
    store.close();
    writeFileSync(file, readFileSync(file).subarray(0, 6 * 4096 + 100));
    expect(openError().problem).toBe(SqliteStoreProblem.Corrupt);
  });

  it("stops on another application's SQLite database, and leaves it alone", () => {
    const other = join(folder.path, "other.db");
    const db = new DatabaseSync(other);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    db.close();
    const error = openError(other);
    expect(error.problem).toBe(SqliteStoreProblem.NotAStore);
    const check = new DatabaseSync(other);
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_schema").get()).toEqual({ n: 1 });
    check.close();
  });

  it("stops on a schema newer than this program's", () => {
    openDatabase({ file }).close();
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const error = openError();
    expect(error.problem).toBe(SqliteStoreProblem.NewerSchema);
    expect(error.detail).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });
});
