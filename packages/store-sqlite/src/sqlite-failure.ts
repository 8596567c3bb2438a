import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

// SQLite's primary result codes (https://sqlite.org/rescode.html) that mean
// "this file is damaged" rather than "the disk or lock is in the way".
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** The primary SQLite result code of an error node:sqlite threw, if it is one. */
export function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code !== "ERR_SQLITE_ERROR" || typeof errcode !== "number") return undefined;
  return errcode & 0xff; // extended codes carry the primary code in the low byte
}

/**
 * Turns anything an SQLite call threw into a {@link SqliteStoreError}:
 * Corrupt for a damaged file, Unavailable for everything else (read-only or
 * full disk, I/O error, lock timeout, a vanished folder). A
 * SqliteStoreError passes through unchanged.
 */
export function toStoreError({ error, file }: { error: unknown; file: string }): SqliteStoreError {
  if (error instanceof SqliteStoreError) return error;
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) {
    return new SqliteStoreError({
      problem: SqliteStoreProblem.Corrupt,
      file,
      detail: `unreadable (${message}); move it aside to start with an empty store`,
      cause: error,
    });
  }
  return new SqliteStoreError({ problem: SqliteStoreProblem.Unavailable, file, detail: message, cause: error });
}
