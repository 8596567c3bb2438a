import { resolve } from "node:path";
import {
  ChatbotError,
  ErrorCode,
  type HistoryEntry,
  type RenewWrite,
  type SessionRecord,
  type SessionStore,
  type TurnWrite,
  type WriteOutcome,
} from "@chatgptchatbot/core";
import { type OpenDatabaseOptions, openDatabase } from "./database.js";
import {
  advance,
  JOURNAL_FOLD_ROWS,
  type Placement,
  type ServerCredentials,
  type SessionActivity,
  SessionTable,
  type StoredSession,
  type TurnChange,
  type TurnResult,
} from "./session-table.js";
import { toStoreError } from "./sqlite-failure.js";
import type { SqliteStoreError } from "./sqlite-store-error.js";
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
  /**
   * Told when a fold of the turn journal fails (a full or read-only disk), which no caller sees: the turns stay
   * journaled and committed, and the next fold (every {@link JOURNAL_FOLD_ROWS} turns, at close, at the next open)
   * tries again. For a log line; what it throws is ignored.
   */
  readonly onFoldError?: (error: SqliteStoreError) => void;
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
    return new SqliteSessionStore({
      table,
      cache: options.cache ?? true,
      ...(options.onFoldError === undefined ? {} : { onFoldError: options.onFoldError }),
    });
  } catch (error) {
    db.close();
    throw toStoreError({ error, file });
  }
}

type CachedRecord = { -readonly [K in keyof SessionRecord]: SessionRecord[K] } & { history: HistoryEntry[] };

/**
 * A cached session: the store's own record, and where its rows are (so a
 * turn's statements need no lookups). A session `list` brought in has its
 * history read on first use (`placement` unknown until then).
 */
interface Cached {
  readonly record: CachedRecord;
  readonly sid: number;
  placement: Placement | undefined;
  /** The highest fencing token the stored session accepted (journaled turns included). */
  fence: number;
}

/** A chat turn waiting for the group's commit, and its caller's promise. */
interface QueuedTurn {
  readonly change: TurnChange;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * {@link SessionStore} over SQLite. Every write is exactly what changed, in
 * a transaction. With the cache, a chat turn is one INSERT into the turn
 * journal, its fence tested against the cached one, and the journal is folded
 * into the tables in batches (see `SessionTable.foldJournal`). Without it, a
 * turn is one UPDATE (fenced: a token below the stored one is refused in the
 * same statement), a DELETE of the dropped entries when there are any, and one
 * INSERT per new entry.
 *
 * Chat turns are committed in groups: a turn is queued, and every turn
 * queued until the next `setImmediate` is written in ONE transaction (see
 * `SessionTable.appendTurns`), so concurrent chats share the BEGIN IMMEDIATE
 * / COMMIT (the WAL write) that each paid for alone before. Each caller's
 * promise settles only after that commit, as before (an answered chat is on
 * disk); a lone turn waits one `setImmediate` longer. Operations keep their
 * call order: a second turn of a session already queued, and every other
 * write (create, renew, delete, writeState), first commits the queued group
 * synchronously; a read that could see a queued turn (`get` of that session,
 * `list`, `listActivity`) does too, and `close()` commits what is queued.
 *
 * With `cache` (the default) every record read or written is also kept in
 * memory and changed in place after each commit, as the in-process store
 * keeps it: `get` hands out the cached record itself (the interface forbids
 * changing it), so a chat's read costs what the memory store's does. Once
 * `list` has read the whole file the cache holds every session, and later
 * sweeps read no file. Right while one process owns the file, which is how
 * the program runs it.
 *
 * Failures while serving (read-only or full disk, I/O error, damaged pages)
 * reject with core's Unavailable "session store unavailable", the
 * SqliteStoreError as its cause; the stored session (and the cached one) is
 * left as it was.
 */
export class SqliteSessionStore implements SessionStore {
  readonly #table: SessionTable;
  /** What is stored, as last read or written; undefined when caching is off. */
  readonly #cache: Map<string, Cached> | undefined;
  /** The cache holds every stored session (after a `list`). */
  #complete = false;
  /** Turns waiting for the next group commit, in call order; at most one per session. */
  #queue: QueuedTurn[] = [];
  /** The sessions in `#queue`. */
  readonly #queued = new Set<string>();
  /** The group commit scheduled for the next `setImmediate`, while `#queue` is not empty. */
  #flushSoon: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  readonly #onFoldError: ((error: SqliteStoreError) => void) | undefined;

  constructor({
    table,
    cache = true,
    onFoldError,
  }: {
    table: SessionTable;
    cache?: boolean;
    onFoldError?: (error: SqliteStoreError) => void;
  }) {
    this.#table = table;
    this.#cache = cache ? new Map() : undefined;
    this.#onFoldError = onFoldError;
  }

  /** The database file, as an absolute path (for the start log line). */
  get file(): string {
    return this.#table.file;
  }

  /** The engine, for the coordinator that shares this file (see `SqliteCoordinator`). */
  get table(): SessionTable {
    return this.#table;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (this.#queued.has(id)) this.#flush();
    const cached = this.#cache?.get(id);
    if (cached !== undefined || this.#complete) return cached?.record;
    return this.#run(() => {
      const stored = this.#table.read(id);
      if (stored === undefined) return undefined;
      return this.#remember(stored)?.record ?? stored.record;
    });
  }

  async create(record: SessionRecord): Promise<void> {
    this.#flush();
    const placement = this.#run(() => this.#table.insert(record));
    if (placement === undefined) throw new Error(`session ${record.id} exists`);
    this.#remember({ record, placement, fence: 0 });
  }

  /** Queued for the next group commit; settles after it (see the class comment). */
  appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome> {
    // The second turn of a session needs the placement the first leaves: commit the first now.
    if (this.#queued.has(id)) this.#flush();
    return new Promise((resolve, reject) => {
      this.#queue.push({ change: { id, fence, ...turn }, resolve, reject });
      this.#queued.add(id);
      // After close() nothing runs later: the write fails now, as the closed database makes it.
      if (this.#closed) this.#flush();
      else this.#flushSoon ??= setImmediate(this.#flushQueued);
    });
  }

  async renew(id: string, fence: number, fresh: RenewWrite): Promise<WriteOutcome> {
    this.#flush();
    const outcome = this.#run(() => this.#table.renew({ id, fence, ...fresh }));
    const cached = this.#settle(id, outcome);
    if (cached !== undefined) {
      cached.fence = fence;
      const { record } = cached;
      if (cached.placement !== undefined) {
        record.history = [];
        cached.placement = advance(cached.placement, { drop: Number.POSITIVE_INFINITY, append: 0 });
      }
      record.initialResponse = fresh.initialResponse;
      record.conversation = fresh.conversation;
      record.conversationStartedAt = fresh.conversationStartedAt;
    }
    return outcome;
  }

  async delete(id: string): Promise<boolean> {
    this.#flush();
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
    this.#flush();
    if (this.#complete && this.#cache !== undefined) return [...this.#cache.values()].map((cached) => cached.record);
    return this.#run(() => {
      if (this.#cache === undefined) return this.#table.readAll().map((session) => session.record);
      // Cached records stay the ones handed out; the rest join the cache
      // without their histories (a sweep reads only timestamps): each is read
      // on its first use, so the first sweep after a start does not read
      // every message in the file.
      const listed = this.#table
        .readAllWithoutHistory()
        .map(
          ({ record, sid, fence }) =>
            (this.#cache!.get(record.id) ?? this.#rememberWithoutHistory(record, sid, fence)).record,
        );
      this.#complete = true;
      return listed;
    });
  }

  /**
   * Each session's timestamps without its history or config: what a sweep
   * needs. Proposed for the SessionStore interface (see the README).
   */
  async listActivity(): Promise<SessionActivity[]> {
    this.#flush();
    return this.#run(() => this.#table.listActivity());
  }

  /**
   * A small named value kept beside the sessions, sealed like credentials
   * when the store has a key (the program keeps the HTTP API's default
   * session here: its id and renewed credential).
   */
  async readState(name: string): Promise<string | undefined> {
    return this.#run(() => this.#table.readState(name));
  }

  async writeState(name: string, value: string): Promise<void> {
    this.#flush();
    this.#run(() => this.#table.writeState(name, value));
  }

  /**
   * Commits the queued turns (each caller's promise settles as the commit
   * went), then closes the database. Idempotent; the store must not be used
   * afterwards (a write then fails as Unavailable).
   */
  close(): void {
    this.#flush();
    this.#closed = true;
    this.#table.close(this.#reportFoldError);
  }

  /** Passes a failed fold on to `onFoldError`, never throwing (it runs where nothing may). */
  readonly #reportFoldError = (error: unknown): void => {
    try {
      this.#onFoldError?.(toStoreError({ error, file: this.#table.file }));
    } catch {
      // the listener's own failure: nothing to do about it here
    }
  };

  readonly #flushQueued = (): void => {
    this.#flushSoon = undefined;
    this.#flush();
  };

  /**
   * Writes every queued turn in one transaction (each alone when the group
   * fails: see `SessionTable.appendTurns`) and settles each caller: the
   * cache is changed only for a committed turn, after its commit.
   */
  #flush(): void {
    if (this.#queue.length === 0) return;
    if (this.#flushSoon !== undefined) {
      clearImmediate(this.#flushSoon);
      this.#flushSoon = undefined;
    }
    const group = this.#queue;
    this.#queue = [];
    this.#queued.clear();
    // Read now, not when queued: an earlier group may have moved a session's rows since.
    // With the session's placement and fence known, a turn is one journal row (see SessionTable.appendTurns).
    const turns = group.map(({ change }) => {
      const cached = this.#cache?.get(change.id);
      const placement = cached?.placement;
      return { change, placement, storedFence: placement === undefined ? undefined : cached!.fence };
    });
    let results: TurnResult[];
    try {
      results = this.#table.appendTurns(turns);
    } catch (error) {
      // appendTurns reports each turn's failure in its result; should it throw
      // anyway, no caller may be left waiting (and nothing throws in an immediate).
      for (const { reject } of group) reject(this.#unavailable(error));
      return;
    }
    group.forEach(({ change, resolve, reject }, i) => {
      const result = results[i]!;
      if (!result.ok) {
        reject(this.#unavailable(result.error));
        return;
      }
      this.#afterTurn(change, result.outcome);
      resolve(result.outcome);
    });
    if (this.#table.journalRows >= JOURNAL_FOLD_ROWS) {
      try {
        this.#table.foldJournal();
      } catch (error) {
        // The turns stay in the journal, committed: the next fold (or open) tries again; the cache is current.
        this.#reportFoldError(error);
      }
    }
  }

  /** Changes the cached session as a committed turn changed the stored one. */
  #afterTurn({ id, fence, drop, append, conversation, lastActiveAt }: TurnChange, outcome: WriteOutcome): void {
    const cached = this.#settle(id, outcome);
    if (cached === undefined) return;
    cached.fence = fence;
    const { record } = cached;
    if (cached.placement !== undefined) {
      // (A history not read yet will be read with this turn in it.)
      if (drop > 0) record.history.splice(0, drop);
      record.history.push(...append);
      cached.placement = advance(cached.placement, { drop, append: append.length });
    }
    record.conversation = conversation;
    record.lastActiveAt = lastActiveAt;
  }

  /** Keeps a record as the store's own copy (its own history array: writes change it in place); undefined without a cache. */
  #remember({ record, placement, fence }: StoredSession): Cached | undefined {
    if (this.#cache === undefined) return undefined;
    const cached: Cached = {
      record: { ...record, history: [...record.history] },
      sid: placement.sid,
      placement,
      fence,
    };
    this.#cache.set(record.id, cached);
    return cached;
  }

  /** Caches a record whose history is read from the file when first touched (then it is a plain array). */
  #rememberWithoutHistory(record: SessionRecord, sid: number, fence: number): Cached {
    const own = { ...record } as CachedRecord;
    const cached: Cached = { record: own, sid, placement: undefined, fence };
    const settle = (history: HistoryEntry[]): HistoryEntry[] => {
      Object.defineProperty(own, "history", { value: history, writable: true, enumerable: true, configurable: true });
      return history;
    };
    Object.defineProperty(own, "history", {
      enumerable: true,
      configurable: true,
      get: () => {
        const { history, placement } = this.#run(() => this.#table.readHistory(sid));
        cached.placement = placement;
        return settle(history);
      },
      set: (history: HistoryEntry[]) => settle(history),
    });
    this.#cache!.set(record.id, cached);
    return cached;
  }

  /** The cached session a written outcome must change; forgets a session the file no longer has. */
  #settle(id: string, outcome: WriteOutcome): Cached | undefined {
    if (outcome === "not-found") this.#cache?.delete(id);
    return outcome === "written" ? this.#cache?.get(id) : undefined;
  }

  #run<T>(body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  #unavailable(error: unknown): ChatbotError {
    return new ChatbotError({
      code: ErrorCode.Unavailable,
      message: "session store unavailable",
      cause: toStoreError({ error, file: this.#table.file }),
    });
  }
}
