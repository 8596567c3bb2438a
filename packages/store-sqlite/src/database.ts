import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Migration, migrate, pragmaNumber } from "./schema.js";
import { toStoreError } from "./sqlite-failure.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

export interface OpenDatabaseOptions {
  /** The database file; its folder is created (owner-only) when missing. */
  readonly file: string;
  /**
   * "normal" (the default): with WAL, a commit survives the process being
   * killed at any moment and the file is never left unreadable; a power cut
   * may lose the last turns. "full": each commit is also fsynced, so it
   * survives a power cut too, at the cost of a disk flush per turn.
   */
  readonly synchronous?: "normal" | "full";
  /** How long a write waits for another connection's lock (5000 ms). */
  readonly busyTimeoutMs?: number;
  /** The most the file may grow to; writes beyond fail as Unavailable (no bound by default). */
  readonly maxBytes?: number;
  /** Run SQLite's `quick_check` at open, so a damaged file stops the start (true). */
  readonly verify?: boolean;
  /** For tests of the migration runner; the real schema by default. */
  readonly migrations?: readonly Migration[];
}

/** Only the owner may read or write the store: it holds credentials and conversations. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Opens (creating when missing) a session store's database: owner-only
 * folder and files, WAL, busy timeout, integrity check, schema migrated.
 *
 * @throws SqliteStoreError naming the file and the problem.
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  const file = resolve(options.file);
  let db: DatabaseSync | undefined;
  try {
    prepareFiles(file);
    db = new DatabaseSync(file, { enableForeignKeyConstraints: true });
    // The busy timeout first: switching to WAL may itself wait for a lock.
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode?: unknown } | undefined;
    if (mode?.journal_mode !== "wal") {
      throw new SqliteStoreError({
        problem: SqliteStoreProblem.Unavailable,
        file,
        detail: `cannot switch to WAL mode (the journal mode stayed ${String(mode?.journal_mode)})`,
      });
    }
    db.exec(`PRAGMA synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    if (options.verify ?? true) verifyIntegrity(db, file);
    migrate({ db, file, migrations: options.migrations });
    if (options.maxBytes !== undefined) {
      const pages = Math.max(1, Math.floor(options.maxBytes / pragmaNumber(db, "page_size")));
      db.prepare(`PRAGMA max_page_count = ${pages}`).get();
    }
    // SQLite gives -wal and -shm the main file's mode; make sure of it anyway.
    for (const suffix of ["-wal", "-shm"]) tightenFile(file + suffix);
    return db;
  } catch (error) {
    try {
      db?.close();
    } catch {
      // closing a half-open database can fail too; the first error is the one to report
    }
    throw toStoreError({ error, file });
  }
}

/** Folder 0700 when we create it; the file created 0600, or tightened to 0600 when it exists. */
function prepareFiles(file: string): void {
  const folder = dirname(file);
  const created = mkdirSync(folder, { recursive: true, mode: FOLDER_MODE });
  // mkdir applies the umask; a folder we made gets exactly 0700 whatever it is.
  if (created !== undefined) chmodSync(folder, FOLDER_MODE);
  try {
    closeSync(openSync(file, "wx", FILE_MODE));
    chmodSync(file, FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    tightenFile(file);
  }
}

function tightenFile(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return; // not there (yet)
  }
  if ((mode & 0o077) !== 0) chmodSync(path, FILE_MODE);
}

function verifyIntegrity(db: DatabaseSync, file: string): void {
  const rows = db.prepare("PRAGMA quick_check(5)").all() as Array<{ quick_check?: unknown }>;
  const problems = rows.map((row) => String(row.quick_check)).filter((text) => text !== "ok");
  if (problems.length > 0) {
    throw new SqliteStoreError({
      problem: SqliteStoreProblem.Corrupt,
      file,
      detail: `damaged (${problems.join("; ")}); move it aside to start with an empty store`,
    });
  }
}
