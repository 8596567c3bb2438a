import { resolve } from "node:path";
import { ChatbotError, ErrorCode, type HistoryEntry, type SessionRecord, type SessionStore } from "@chatgptchatbot/core";
import { openDatabase, type OpenDatabaseOptions } from "./database.js";
import { SessionTable, type KeptHistory, type ServerCredentials, type SessionActivity } from "./session-table.js";
import { toStoreError } from "./sqlite-failure.js";
import { applyStoreKey } from "./store-key.js";

export interface SqliteSessionStoreOptions extends OpenDatabaseOptions {
  /** CHATBOT_STORE_KEY as given (32 bytes, base64), or undefined for plaintext credentials in an owner-only file. */
  readonly key?: string;
  /** The server's default credentials, which records refer to instead of containing. */
  readonly serverCredentials?: ServerCredentials;
  /**
   * Keep every record read or written in memory too (true), so a chat's `get`
   * costs what the memory store's does and only the write touches SQLite.
   * Right while one process owns the file, which is how the program runs it.
   */
  readonly cache?: boolean;
}

/**
 * Opens a durable session store: the database (owner-only, WAL, migrated)
 * and its key check. Synchronous, and meant to run once at start.
 *
 * @throws SqliteStoreError naming the file and the problem (print its message, exit 2).
 */
export function openSqliteSessionStore(options: SqliteSessionStoreOptions): SqliteSessionStore {
  const file = resolve(options.file);
  const db = openDatabase({ ...options, file });
  try {
    const cipher = applyStoreKey({ db, file, keyText: options.key });
    const table = new SessionTable({ db, file, cipher, serverCredentials: options.serverCredentials });
    return new SqliteSessionStore({ table, cache: options.cache ?? true });
  } catch (error) {
    db.close();
    throw toStoreError({ error, file });
  }
}

/** Where a history entry this store handed out or saved is stored. */
interface EntryTag {
  readonly id: string;
  readonly seq: number;
}

/**
 * {@link SessionStore} over SQLite. `get` returns fresh copies (the pool may
 * change them; nothing is saved until `set`). `set` writes only what changed
 * since the record was read: it recognises the history entries it handed out
 * (by identity, in a WeakMap that keeps nothing alive), so a chat turn is one
 * transaction of one UPDATE, at most one DELETE of trimmed entries and one
 * INSERT per new entry.
 *
 * Failures while serving (read-only or full disk, I/O error, damaged pages)
 * reject with core's Unavailable "session store unavailable", the
 * SqliteStoreError as its cause; the stored session is left as it was.
 */
export class SqliteSessionStore implements SessionStore {
  readonly #table: SessionTable;
  readonly #tags = new WeakMap<HistoryEntry, EntryTag>();
  /** What is stored, as last read or written; undefined when caching is off. */
  readonly #cache: Map<string, SessionRecord> | undefined;

  constructor({ table, cache = true }: { table: SessionTable; cache?: boolean }) {
    this.#table = table;
    this.#cache = cache ? new Map() : undefined;
  }

  /** The database file, as an absolute path (for the start log line). */
  get file(): string {
    return this.#table.file;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const cached = this.#cache?.get(id);
    if (cached !== undefined) return copyRecord(cached);
    return this.#run(() => {
      const stored = this.#table.read(id);
      if (stored === undefined) return undefined;
      this.#tag(stored.record, stored.seqs);
      this.#cache?.set(id, copyRecord(stored.record));
      return stored.record;
    });
  }

  async set(record: SessionRecord): Promise<void> {
    this.#run(() => {
      const seqs = this.#table.write({ record, kept: this.#keptHistory(record) });
      this.#tag(record, seqs);
      // Only after the commit: a failed write leaves the cached session as stored.
      this.#cache?.set(record.id, copyRecord(record));
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.#run(() => {
      const deleted = this.#table.remove(id);
      this.#cache?.delete(id);
      return deleted;
    });
  }

  async size(): Promise<number> {
    return this.#run(() => this.#table.count());
  }

  async list(): Promise<SessionRecord[]> {
    return this.#run(() =>
      this.#table.readAll().map((stored) => {
        this.#tag(stored.record, stored.seqs);
        return stored.record;
      }),
    );
  }

  /**
   * Each session's timestamps without its history or config: what a sweep
   * needs. Proposed for the SessionStore interface (see the README).
   */
  async listActivity(): Promise<SessionActivity[]> {
    return this.#run(() => this.#table.listActivity());
  }

  /** Closes the database. Idempotent; the store must not be used afterwards. */
  close(): void {
    this.#table.close();
  }

  /**
   * The leading entries of `record.history` that are already stored, as one
   * run of consecutive sequence numbers; undefined when the history is not
   * "stored entries, then new ones" (then the session's history is rewritten).
   */
  #keptHistory(record: SessionRecord): KeptHistory | undefined {
    const { history, id } = record;
    const first = history[0] === undefined ? undefined : this.#tags.get(history[0]);
    if (first === undefined || first.id !== id) return undefined;
    let count = 1;
    while (count < history.length) {
      const tag = this.#tags.get(history[count]!);
      if (tag === undefined || tag.id !== id || tag.seq !== first.seq + count) break;
      count++;
    }
    for (let i = count; i < history.length; i++) {
      if (this.#tags.get(history[i]!)?.id === id) return undefined; // reordered: rewrite
    }
    return { first: first.seq, count };
  }

  #tag(record: SessionRecord, seqs: readonly number[]): void {
    record.history.forEach((entry, i) => this.#tags.set(entry, { id: record.id, seq: seqs[i]! }));
  }

  #run<T>(body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw new ChatbotError({
        code: ErrorCode.Unavailable,
        message: "session store unavailable",
        cause: toStoreError({ error, file: this.#table.file }),
      });
    }
  }
}

/**
 * A copy the pool may change freely: its own history array and top-level
 * fields. Entries, config and conversation state are immutable and shared
 * (sharing the entries is also what lets `set` recognise them).
 */
function copyRecord(record: SessionRecord): SessionRecord {
  return { ...record, history: [...record.history] };
}
