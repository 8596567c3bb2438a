import type { DatabaseSync, StatementSync } from "node:sqlite";
import type {
  ConversationState,
  HistoryEntry,
  RenewWrite,
  SessionConfig,
  SessionRecord,
  TurnWrite,
  WriteOutcome,
} from "@chatgptchatbot/core";
import { ACCESS_TOKEN_KIND, API_KEY_KIND } from "@chatgptchatbot/core";
import { CooldownTable } from "./cooldown-table.js";
import { type CredentialCipher, isSealed } from "./credential-cipher.js";
import { decodeConfig, decodeConversation, decodeCredentials, decodeEntries, encodeEntries } from "./record-codec.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

/**
 * The server's default credentials, which records refer to and never
 * contain: the same fields as core's `SessionConfigDefaults`, so the pool's
 * defaults can be passed as they are.
 */
export interface ServerCredentials {
  /** By backend kind; wins over the two fields below. */
  readonly credentials?: { readonly [kind: string]: readonly string[] | undefined };
  /** Used by "api-key" sessions created without their own key. */
  readonly apiKeys?: readonly string[];
  /** Used by "access-token" sessions created without their own token. */
  readonly accessTokens?: readonly string[];
}

/** The server's credentials for a kind, resolved as core's config parser resolves them. */
function serverCredentialsFor(server: ServerCredentials, kind: string): readonly string[] {
  const byKind = server.credentials?.[kind];
  if (byKind !== undefined) return byKind;
  if (kind === API_KEY_KIND) return server.apiKeys ?? [];
  if (kind === ACCESS_TOKEN_KIND) return server.accessTokens ?? [];
  return [];
}

/** What a sweep needs of a session: no history, no config. */
export interface SessionActivity {
  readonly id: string;
  readonly createdAt: number;
  readonly conversationStartedAt: number;
  readonly lastActiveAt: number;
}

/**
 * Where a session's rows are: its row id and the sequence numbers of its
 * first stored message and of the next one. A writer that knows it (the
 * adapter's cache) updates by row id and deletes and inserts by sequence
 * number, with no lookups; it is advanced by {@link advance} after each
 * committed write.
 */
export interface Placement {
  readonly sid: number;
  readonly first: number;
  readonly next: number;
}

/** A session as read, where its rows are, and the highest fencing token it accepted. */
export interface StoredSession {
  readonly record: SessionRecord;
  readonly placement: Placement;
  readonly fence: number;
}

/** The placement after a committed turn (drop, then append) or renew (drop everything). */
export function advance(placement: Placement, change: { drop: number; append: number }): Placement {
  const first = Math.min(placement.first + change.drop, placement.next);
  return { sid: placement.sid, first, next: placement.next + change.append };
}

function placementOf(sid: number, messages: readonly { seq: number }[]): Placement {
  const first = messages[0]?.seq ?? 0;
  return { sid, first, next: messages.length === 0 ? 0 : messages.at(-1)!.seq + 1 };
}

/** One chat's change, fenced (see core's `SessionStore.appendTurn`). */
export interface TurnChange extends TurnWrite {
  readonly id: string;
  readonly fence: number;
}

/** A turn and, when the caller knows it to be current, where its session's rows are. */
export interface PlacedTurn {
  readonly change: TurnChange;
  readonly placement?: Placement | undefined;
  /**
   * The session's stored fence, when the caller knows it to be current (the
   * one process that owns the file, with its cache): with `placement`, the
   * turn is one journal row, its fence tested here instead of in an UPDATE.
   */
  readonly storedFence?: number | undefined;
}

/** What one turn of a group came to: its outcome, or what its write threw (nothing of it stored). */
export type TurnResult =
  | { readonly ok: true; readonly outcome: WriteOutcome }
  | { readonly ok: false; readonly error: unknown };

/** A renew's change, fenced (see core's `SessionStore.renew`). */
export interface RenewChange extends RenewWrite {
  readonly id: string;
  readonly fence: number;
}

interface SessionRow {
  sid: number;
  id: string;
  config: string;
  credentials: Uint8Array | null;
  initial_prompt: string;
  initial_response: string;
  system_tokens: number;
  conversation: string | null;
  created_at: number;
  conversation_started_at: number;
  last_active_at: number;
  fence: number;
}

interface JournalRow {
  seq: number;
  sid: number;
  fence: number;
  first: number;
  next: number;
  entries: string;
  conversation: string | null;
  last_active_at: number;
}

interface MessageRow {
  sid: number;
  seq: number;
  role: string;
  content: string;
  tokens: number;
}

const SESSION_COLUMNS =
  "sid, id, config, credentials, initial_prompt, initial_response, system_tokens, conversation, created_at, conversation_started_at, last_active_at, fence";

/**
 * The journal is folded once it holds this many turns (see
 * {@link SessionTable.foldJournal}), at most this many a transaction: enough
 * turns of a busy session that most of its new messages are dropped again
 * before they reach the messages table, few enough that a fold of as many
 * sessions' turns blocks for a few milliseconds at most.
 */
export const JOURNAL_FOLD_ROWS = 512;

/**
 * The storage engine: sessions and their history as rows, every statement
 * prepared once, every write one transaction. Knows records but not the
 * SessionStore interface, so the interface may change around it.
 */
export class SessionTable {
  readonly #db: DatabaseSync;
  readonly #file: string;
  readonly #cipher: CredentialCipher | undefined;
  readonly #server: ServerCredentials;
  readonly #sql: ReturnType<typeof prepareStatements>;
  #closed = false;
  #cooldowns: CooldownTable | undefined;
  /** At least the number of turns in the journal (a group rolled back may have counted some twice). */
  #journalRows: number;

  constructor({
    db,
    file,
    cipher,
    serverCredentials = {},
  }: {
    db: DatabaseSync;
    file: string;
    cipher: CredentialCipher | undefined;
    serverCredentials?: ServerCredentials;
  }) {
    this.#db = db;
    this.#file = file;
    this.#cipher = cipher;
    this.#server = serverCredentials;
    this.#sql = prepareStatements(db);
    // Turns committed before a stop or a crash are folded now, before anything reads the tables.
    this.#journalRows = (this.#sql.countJournal.get() as { n: number }).n;
    this.#foldAll();
  }

  get file(): string {
    return this.#file;
  }

  read(id: string): StoredSession | undefined {
    const row = this.#sql.selectSession.get(id) as SessionRow | undefined;
    if (row === undefined) return undefined;
    return this.#decode(row, this.#sql.selectMessages.all(row.sid) as unknown as MessageRow[]);
  }

  /** Every session, in two sequential scans (no query per session). */
  readAll(): StoredSession[] {
    const rows = this.#sql.selectSessions.all() as unknown as SessionRow[];
    const messages = this.#sql.selectAllMessages.all() as unknown as MessageRow[];
    const sessions: StoredSession[] = [];
    let m = 0;
    for (const row of rows) {
      // Both scans are ordered by sid: walk them side by side.
      while (m < messages.length && messages[m]!.sid < row.sid) m++;
      const start = m;
      while (m < messages.length && messages[m]!.sid === row.sid) m++;
      const stored = this.#decode(row, messages.slice(start, m));
      if (stored !== undefined) sessions.push(stored);
    }
    return sessions;
  }

  /**
   * Every session without its history (`history` is empty, `placement`
   * unknown): one scan of the sessions table, for a sweep, which reads only
   * timestamps. {@link readHistory} gets a session's history when it is needed.
   */
  readAllWithoutHistory(): Array<{ record: SessionRecord; sid: number; fence: number }> {
    const rows = this.#sql.selectSessions.all() as unknown as SessionRow[];
    const sessions: Array<{ record: SessionRecord; sid: number; fence: number }> = [];
    for (const row of rows) {
      const stored = this.#decode(row, []);
      if (stored !== undefined) sessions.push({ record: stored.record, sid: row.sid, fence: row.fence });
    }
    return sessions;
  }

  /** A session's history and where its rows are, by row id. */
  readHistory(sid: number): { history: HistoryEntry[]; placement: Placement } {
    const messages = this.#sql.selectMessages.all(sid) as unknown as MessageRow[];
    const history: HistoryEntry[] = [];
    for (const message of messages) {
      if (message.role !== "user" && message.role !== "assistant") {
        throw new SqliteStoreError({
          problem: SqliteStoreProblem.Corrupt,
          file: this.#file,
          detail: "a message has an unknown role",
        });
      }
      history.push({ role: message.role, content: message.content, tokens: message.tokens });
    }
    return { history, placement: placementOf(sid, messages) };
  }

  /** Each session's timestamps, its journaled turns' activity included (read, not folded: a read writes nothing). */
  listActivity(): SessionActivity[] {
    const journaled = new Map<number, number>();
    if (this.#journalRows > 0) {
      for (const row of this.#sql.journalActivity.all() as unknown as Array<{ sid: number; last_active_at: number }>) {
        journaled.set(row.sid, row.last_active_at);
      }
    }
    return (this.#sql.selectActivity.all() as unknown as Array<Omit<SessionRow, "config">>).map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      conversationStartedAt: row.conversation_started_at,
      lastActiveAt: journaled.get(row.sid) ?? row.last_active_at,
    }));
  }

  count(): number {
    return (this.#sql.count.get() as { n: number }).n;
  }

  remove(id: string): boolean {
    // The session's messages go with it (ON DELETE CASCADE). Its journal rows
    // too, in the same transaction (not folded: nothing of them is kept, and a
    // full store can still delete): none is left behind to be read as the
    // turn of a later session given the same row id.
    if (this.#journalRows === 0) return Number(this.#sql.deleteSession.run(id).changes) > 0;
    return this.#transaction(() => {
      this.#sql.deleteJournalOf.run(id);
      return Number(this.#sql.deleteSession.run(id).changes) > 0;
    });
  }

  /**
   * A small named value the program keeps beside the sessions (the HTTP
   * API's default session: its id and renewed credential). Treated as a
   * secret: sealed like session credentials when the store has a key.
   */
  readState(name: string): string | undefined {
    const row = this.#sql.selectMeta.get(stateKey(name)) as { value: Uint8Array } | undefined;
    if (row === undefined) return undefined;
    const text = isSealed(row.value)
      ? this.#cipher?.open({ sealed: row.value, context: stateKey(name) })
      : decodeUtf8(row.value);
    if (text === undefined) {
      throw new SqliteStoreError({
        problem: SqliteStoreProblem.Corrupt,
        file: this.#file,
        detail: `the saved ${name} is unreadable`,
      });
    }
    return text;
  }

  /** Saves a named value (one statement); see {@link readState}. */
  writeState(name: string, value: string): void {
    const stored = this.#cipher?.seal({ plaintext: value, context: stateKey(name) }) ?? Buffer.from(value, "utf8");
    this.#sql.upsertMeta.run(stateKey(name), stored);
  }

  /** The persisted cooldowns in the same file (created on first use: it may write the salt). */
  cooldowns(): CooldownTable {
    this.#cooldowns ??= new CooldownTable({ db: this.#db });
    return this.#cooldowns;
  }

  /**
   * The highest fencing token any stored session accepted: a coordinator
   * started on this file issues tokens above it (whatever the clock did).
   */
  highestFence(): number {
    return (this.#sql.highestFence.get() as { fence: number | null }).fence ?? 0;
  }

  /**
   * Stores a new session whole, in one transaction.
   *
   * @returns where its rows are, or undefined (and nothing written) when a session with that id exists.
   */
  insert(record: SessionRecord): Placement | undefined {
    // (A new session has no journal rows: a reused row id starts with none.)
    return this.#transaction(() => {
      if (this.#sql.exists.get(record.id) !== undefined) return undefined;
      const sid = this.#insertSession(record);
      for (const [seq, entry] of record.history.entries()) {
        this.#sql.insertMessage.run(sid, seq, entry.role, entry.content, entry.tokens);
      }
      return { sid, first: 0, next: record.history.length };
    });
  }

  /**
   * One chat turn in one transaction. With the session's `placement` and
   * `storedFence` (both known to be current): one journal row, refused for a
   * fence below the stored one. Else an UPDATE of the three changing columns
   * (refused for a fence below the stored one), a DELETE of the dropped
   * entries when there are any, one INSERT per new entry; with `placement`,
   * no statement needs an index lookup beyond the row id. Nothing already
   * stored is rewritten.
   */
  appendTurn(change: TurnChange, placement?: Placement, storedFence?: number): WriteOutcome {
    return this.#transaction(() => this.#applyTurn(change, placement, storedFence));
  }

  /**
   * Several sessions' turns in ONE transaction (one BEGIN IMMEDIATE / COMMIT,
   * the WAL write a turn alone pays for itself), each with its own fence
   * test (see appendTurn): a refused turn changes nothing and gets its own outcome, the
   * others still commit. Each session at most once (a second turn of the
   * same session would need the placement the first leaves).
   *
   * When the group's transaction fails (full disk, I/O error, a statement
   * refused for one turn), it is rolled back and each turn is written alone
   * in its own transaction, so one bad turn fails only itself. When BEGIN
   * itself fails, no turn was tried: each gets that error (writing them one
   * by one would wait for the same lock once per turn, the event loop
   * blocked every time).
   *
   * @returns one result per change, in order; never throws.
   */
  appendTurns(turns: readonly PlacedTurn[]): TurnResult[] {
    if (turns.length === 1) return [this.#alone(turns[0]!)];
    try {
      this.#sql.begin.run();
    } catch (error) {
      return turns.map(() => ({ ok: false, error }));
    }
    let outcomes: WriteOutcome[];
    try {
      outcomes = turns.map(({ change, placement, storedFence }) => this.#applyTurn(change, placement, storedFence));
      this.#sql.commit.run();
    } catch {
      this.#rollback();
      return turns.map((turn) => this.#alone(turn));
    }
    return outcomes.map((outcome) => ({ ok: true, outcome }));
  }

  #alone({ change, placement, storedFence }: PlacedTurn): TurnResult {
    try {
      return { ok: true, outcome: this.appendTurn(change, placement, storedFence) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * A turn's statements, inside a transaction the caller holds: one journal
   * row when the caller knows the session's placement and stored fence, else
   * the fenced UPDATE, the DELETE and the INSERTs.
   */
  #applyTurn(
    { id, fence, drop, append, conversation, lastActiveAt }: TurnChange,
    placement?: Placement,
    storedFence?: number,
  ): WriteOutcome {
    const state = encodeConversation(conversation);
    if (placement !== undefined && storedFence !== undefined) {
      if (fence < storedFence) return "stale";
      const { first } = advance(placement, { drop, append: 0 });
      this.#sql.insertJournal.run(
        placement.sid,
        fence,
        first,
        placement.next,
        encodeEntries(append),
        state,
        lastActiveAt,
      );
      this.#journalRows++;
      return "written";
    }
    if (placement !== undefined) {
      if (this.#sql.updateTurnBySid.get(state, lastActiveAt, fence, placement.sid, fence) === undefined)
        return this.#refusal(id);
      if (drop > 0) this.#sql.deleteBefore.run(placement.sid, placement.first + drop);
      append.forEach((entry, i) => {
        this.#sql.insertMessage.run(placement.sid, placement.next + i, entry.role, entry.content, entry.tokens);
      });
      return "written";
    }
    const updated = this.#sql.updateTurn.get(state, lastActiveAt, fence, id, fence) as { sid: number } | undefined;
    if (updated === undefined) return this.#refusal(id);
    if (drop > 0) this.#sql.deleteOldest.run(updated.sid, updated.sid, drop);
    for (const entry of append)
      this.#sql.appendMessage.run(updated.sid, entry.role, entry.content, entry.tokens, updated.sid);
    return "written";
  }

  /** A new conversation in one transaction: the session's row updated, its history deleted. */
  renew({ id, fence, initialResponse, conversation, conversationStartedAt }: RenewChange): WriteOutcome {
    return this.#transaction(() => {
      // The session's journaled turns first: their fence is the one to test and their activity stays, while
      // their messages go with the rest (nothing inserted, so a full store can still renew).
      if (this.#journalRows > 0) {
        const last = this.#sql.lastJournaledTurn.get(id) as
          | Pick<JournalRow, "sid" | "fence" | "conversation" | "last_active_at">
          | undefined;
        if (last !== undefined) {
          this.#sql.updateFolded.run(last.conversation, last.last_active_at, last.fence, last.sid);
          this.#sql.deleteJournalOf.run(id);
        }
      }
      const updated = this.#sql.updateRenew.get(
        initialResponse,
        encodeConversation(conversation),
        conversationStartedAt,
        fence,
        id,
        fence,
      ) as { sid: number } | undefined;
      if (updated === undefined) return this.#refusal(id);
      this.#sql.deleteMessages.run(updated.sid);
      return "written";
    });
  }

  /** At least the number of turns in the journal, not folded yet. */
  get journalRows(): number {
    return this.#journalRows;
  }

  /**
   * Folds the journal's oldest turns (at most {@link JOURNAL_FOLD_ROWS}) into
   * the sessions and messages tables, in one transaction that also deletes
   * them from the journal. A session's turns are applied together: its row
   * is updated once (the last turn's conversation, activity and fence), its
   * dropped messages deleted in one range, and only the new messages still
   * kept are inserted.
   *
   * @returns the number of turns folded.
   */
  foldJournal(): number {
    const folded = this.#transaction(() => this.#fold());
    this.#journalRows = folded < JOURNAL_FOLD_ROWS ? 0 : Math.max(0, this.#journalRows - folded);
    return folded;
  }

  /** Folds the whole journal (nothing to do when it is empty). */
  #foldAll(): void {
    while (this.#journalRows > 0) this.foldJournal();
  }

  /** Folds the oldest turns (at most {@link JOURNAL_FOLD_ROWS}), inside a transaction the caller holds. */
  #fold(): number {
    const rows = this.#sql.selectJournal.all(JOURNAL_FOLD_ROWS) as unknown as JournalRow[];
    if (rows.length === 0) return 0;
    const sessions = new Map<number, { last: JournalRow; first: number; added: Array<[number, HistoryEntry]> }>();
    for (const row of rows) {
      const entries = decodeEntries(row.entries);
      if (entries === undefined) {
        throw new SqliteStoreError({
          problem: SqliteStoreProblem.Corrupt,
          file: this.#file,
          detail: "a journaled turn is unreadable",
        });
      }
      let session = sessions.get(row.sid);
      if (session === undefined) {
        session = { last: row, first: row.first, added: [] };
        sessions.set(row.sid, session);
      }
      session.last = row;
      session.first = Math.max(session.first, row.first);
      for (let i = 0; i < entries.length; i++) session.added.push([row.next + i, entries[i]!]);
    }
    // The turns leave the journal first: their pages are free again before the messages they keep need room
    // (the messages kept are some of the turns' own), so a store the journal filled can still fold.
    this.#sql.deleteJournal.run(rows.at(-1)!.seq);
    for (const [sid, { last, first, added }] of sessions) {
      const updated = this.#sql.updateFolded.run(last.conversation, last.last_active_at, last.fence, sid);
      // (Never the case: a session's journal rows are deleted with it. Skipped rather than fail every fold.)
      if (Number(updated.changes) === 0) continue;
      this.#sql.deleteBefore.run(sid, first);
      for (const [seq, entry] of added) {
        if (seq >= first) this.#sql.insertMessage.run(sid, seq, entry.role, entry.content, entry.tokens);
      }
    }
    return rows.length;
  }

  /**
   * Folds what the journal holds, then closes. Idempotent. (`DatabaseSync.isOpen` is newer than Node 22.13, hence
   * the flag.) A fold that fails is told to `onFoldError`; the database closes all the same.
   */
  close(onFoldError?: (error: unknown) => void): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // Not needed for safety (the next open folds what is left), but it leaves the tables whole.
      this.#foldAll();
    } catch (error) {
      // A read-only or full disk: the journal stays, committed, for the next open.
      onFoldError?.(error);
    }
    this.#db.close();
  }

  /** Why a fenced UPDATE matched no row: the session is gone, or a higher fence was accepted. */
  #refusal(id: string): "not-found" | "stale" {
    return this.#sql.exists.get(id) === undefined ? "not-found" : "stale";
  }

  #insertSession(record: SessionRecord): number {
    const { credentials, ...rest } = record.config;
    let stored: Uint8Array | null = null;
    if (!record.config.serverCredential) {
      const plaintext = JSON.stringify(credentials);
      stored = this.#cipher?.seal({ plaintext, context: record.id }) ?? Buffer.from(plaintext, "utf8");
    }
    const inserted = this.#sql.insertSession.run(
      record.id,
      JSON.stringify(rest),
      stored,
      record.initialPrompt,
      record.initialResponse,
      record.systemTokens,
      encodeConversation(record.conversation),
      record.createdAt,
      record.conversationStartedAt,
      record.lastActiveAt,
    );
    return Number(inserted.lastInsertRowid);
  }

  #transaction<T>(body: () => T): T {
    this.#sql.begin.run();
    try {
      const result = body();
      this.#sql.commit.run();
      return result;
    } catch (error) {
      this.#rollback();
      throw error;
    }
  }

  #rollback(): void {
    try {
      this.#sql.rollback.run();
    } catch {
      // SQLite may already have rolled back (for example after SQLITE_FULL)
    }
  }

  /** @returns undefined for a session whose server credential is no longer configured. */
  #decode(row: SessionRow, messages: readonly MessageRow[]): StoredSession | undefined {
    const fail = (what: string): SqliteStoreError =>
      new SqliteStoreError({
        problem: SqliteStoreProblem.Corrupt,
        file: this.#file,
        detail: `session ${row.id.slice(0, 8)}… is unreadable: ${what}`,
      });
    const base = decodeConfig(row.config);
    if (base === undefined) throw fail("its config is not valid");
    let credentials: readonly string[];
    if (row.credentials === null) {
      credentials = serverCredentialsFor(this.#server, base.kind);
      if (credentials.length === 0) return undefined;
    } else {
      const decoded = decodeCredentials({ stored: row.credentials, context: row.id, cipher: this.#cipher });
      if (decoded === undefined) throw fail("its credentials cannot be decrypted or read");
      credentials = decoded;
    }
    const config: SessionConfig = {
      ...base,
      credentials: [...credentials],
      serverCredential: row.credentials === null,
    };
    let conversation: ConversationState | null = null;
    if (row.conversation !== null) {
      const decoded = decodeConversation(row.conversation);
      if (decoded === undefined) throw fail("its conversation state is not valid");
      conversation = decoded;
    }
    const history: HistoryEntry[] = [];
    for (const message of messages) {
      if (message.role !== "user" && message.role !== "assistant") throw fail("a message has an unknown role");
      history.push({ role: message.role, content: message.content, tokens: message.tokens });
    }
    const record: SessionRecord = {
      id: row.id,
      config,
      initialPrompt: row.initial_prompt,
      initialResponse: row.initial_response,
      systemTokens: row.system_tokens,
      history,
      conversation,
      createdAt: row.created_at,
      conversationStartedAt: row.conversation_started_at,
      lastActiveAt: row.last_active_at,
    };
    return { record, placement: placementOf(row.sid, messages), fence: row.fence };
  }
}

/** The meta key of a named state value; store-key.ts seals every `state:` row when a key is first given. */
export function stateKey(name: string): string {
  return `${STATE_PREFIX}${name}`;
}
export const STATE_PREFIX = "state:";

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function encodeConversation(conversation: ConversationState | null): string | null {
  return conversation === null ? null : JSON.stringify(conversation);
}

function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    // IMMEDIATE: take the write lock at BEGIN, so busy_timeout applies there
    // and a turn never fails half-way on a lock upgrade.
    begin: p("BEGIN IMMEDIATE"),
    commit: p("COMMIT"),
    rollback: p("ROLLBACK"),
    selectSession: p(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`),
    selectSessions: p(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY sid`),
    selectActivity: p("SELECT sid, id, created_at, conversation_started_at, last_active_at FROM sessions"),
    // Each session's last journaled turn's activity (SQLite takes the bare column from the max(seq) row).
    journalActivity: p("SELECT sid, max(seq) AS seq, last_active_at FROM turn_journal GROUP BY sid"),
    selectMessages: p("SELECT sid, seq, role, content, tokens FROM messages WHERE sid = ? ORDER BY seq"),
    selectAllMessages: p("SELECT sid, seq, role, content, tokens FROM messages ORDER BY sid, seq"),
    count: p("SELECT count(*) AS n FROM sessions"),
    insertSession: p(
      `INSERT INTO sessions (id, config, credentials, initial_prompt, initial_response, system_tokens, conversation,
         created_at, conversation_started_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    exists: p("SELECT 1 AS found FROM sessions WHERE id = ?"),
    selectMeta: p("SELECT value FROM meta WHERE key = ?"),
    upsertMeta: p("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    // Journaled turns' fences count: they are their sessions' once folded.
    highestFence: p(
      "SELECT max(fence) AS fence FROM (SELECT max(fence) AS fence FROM sessions UNION ALL SELECT max(fence) FROM turn_journal)",
    ),
    // The fence test is in the WHERE: a refused write changes nothing, and
    // an accepted one raises the stored fence in the same statement.
    updateTurn: p(
      "UPDATE sessions SET conversation = ?, last_active_at = ?, fence = ? WHERE id = ? AND fence <= ? RETURNING sid",
    ),
    updateTurnBySid: p(
      "UPDATE sessions SET conversation = ?, last_active_at = ?, fence = ? WHERE sid = ? AND fence <= ? RETURNING sid",
    ),
    deleteBefore: p("DELETE FROM messages WHERE sid = ? AND seq < ?"),
    insertJournal: p(
      "INSERT INTO turn_journal (sid, fence, first, next, entries, conversation, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    selectJournal: p(
      "SELECT seq, sid, fence, first, next, entries, conversation, last_active_at FROM turn_journal ORDER BY seq LIMIT ?",
    ),
    countJournal: p("SELECT count(*) AS n FROM turn_journal"),
    deleteJournal: p("DELETE FROM turn_journal WHERE seq <= ?"),
    deleteJournalOf: p("DELETE FROM turn_journal WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"),
    // What a renew keeps of a session's journaled turns: the last one's fence, conversation and activity.
    lastJournaledTurn: p(
      `SELECT sid, fence, conversation, last_active_at FROM turn_journal
         WHERE sid = (SELECT sid FROM sessions WHERE id = ?) ORDER BY seq DESC LIMIT 1`,
    ),
    updateFolded: p("UPDATE sessions SET conversation = ?, last_active_at = ?, fence = ? WHERE sid = ?"),
    updateRenew: p(
      `UPDATE sessions SET initial_response = ?, conversation = ?, conversation_started_at = ?, fence = ?
         WHERE id = ? AND fence <= ? RETURNING sid`,
    ),
    deleteSession: p("DELETE FROM sessions WHERE id = ?"),
    deleteMessages: p("DELETE FROM messages WHERE sid = ?"),
    // The oldest `?` entries: a walk of the primary key's first rows, no scan.
    deleteOldest: p(
      "DELETE FROM messages WHERE sid = ? AND seq IN (SELECT seq FROM messages WHERE sid = ? ORDER BY seq LIMIT ?)",
    ),
    insertMessage: p("INSERT INTO messages (sid, seq, role, content, tokens) VALUES (?, ?, ?, ?, ?)"),
    // The next sequence number comes from the primary key's last entry (one
    // index lookup), so appending needs no read of the history first.
    appendMessage: p(
      `INSERT INTO messages (sid, seq, role, content, tokens)
         SELECT ?, coalesce(max(seq) + 1, 0), ?, ?, ? FROM messages WHERE sid = ?`,
    ),
  };
}
