/**
 * Why a SQLite session store cannot be used. The program prints `message` as
 * its one line and exits 2 for every reason found at open; `unavailable` is the
 * one reason met while serving (read-only or full disk, lock timeout, a page
 * that turned corrupt), which the adapter reports to the pool as core's
 * Unavailable "session store unavailable".
 */
export const SqliteStoreProblem = {
  /** The file is not an SQLite database, or SQLite found it damaged. */
  Corrupt: "corrupt",
  /** An SQLite database, but not one this program wrote. */
  NotAStore: "not-a-store",
  /** Written by a newer version of the program (higher schema version). */
  NewerSchema: "newer-schema",
  /** Written with CHATBOT_STORE_KEY, opened without one. */
  KeyRequired: "key-required",
  /** Opened with a key other than the one it was written with. */
  WrongKey: "wrong-key",
  /** The key given is not 32 bytes of base64. */
  BadKey: "bad-key",
  /** The file or its folder cannot be created, opened or written. */
  Unavailable: "unavailable",
} as const;
export type SqliteStoreProblem = (typeof SqliteStoreProblem)[keyof typeof SqliteStoreProblem];

export interface SqliteStoreErrorOptions {
  readonly problem: SqliteStoreProblem;
  /** The database file (or, for BadKey, the variable's name). */
  readonly file: string;
  /** What is wrong, in a few words, without the file name; never a key. */
  readonly detail: string;
  readonly cause?: unknown;
}

export class SqliteStoreError extends Error {
  override readonly name = "SqliteStoreError";
  readonly problem: SqliteStoreProblem;
  readonly file: string;
  readonly detail: string;

  constructor({ problem, file, detail, cause }: SqliteStoreErrorOptions) {
    // One line, file first: it is printed as is at start and read by people.
    super(`session store ${file}: ${oneLine(detail)}`, cause === undefined ? undefined : { cause });
    this.problem = problem;
    this.file = file;
    this.detail = detail;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
