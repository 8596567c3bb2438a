import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ConversationState, HistoryEntry, SessionConfig, SessionRecord } from "@chatgptchatbot/core";
import type { CredentialCipher } from "./credential-cipher.js";
import { decodeConfig, decodeConversation, decodeCredentials } from "./record-codec.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

/** The server's default credentials, which records refer to and never contain. */
export interface ServerCredentials {
  /** Used by API-key (version 3) sessions created without their own key. */
  readonly apiKeys?: readonly string[];
  /** Used by access-token (version 1) sessions created without their own token. */
  readonly accessTokens?: readonly string[];
}

/** A session's record as stored, with the row number of each history entry. */
export interface StoredSession {
  readonly record: SessionRecord;
  /** `seqs[i]` is the stored sequence number of `record.history[i]`. */
  readonly seqs: readonly number[];
}

/** What a sweep needs of a session: no history, no config. */
export interface SessionActivity {
  readonly id: string;
  readonly createdAt: number;
  readonly conversationStartedAt: number;
  readonly lastActiveAt: number;
}

/**
 * Which stored history entries a write keeps: `record.history[0..count)` are
 * stored as `first..first+count-1`; every other stored entry is deleted and
 * the entries after them are appended.
 */
export interface KeptHistory {
  readonly first: number;
  readonly count: number;
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
}

interface MessageRow {
  sid: number;
  seq: number;
  role: string;
  content: string;
  tokens: number;
}

const SESSION_COLUMNS =
  "sid, id, config, credentials, initial_prompt, initial_response, system_tokens, conversation, created_at, conversation_started_at, last_active_at";

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

  listActivity(): SessionActivity[] {
    return (this.#sql.selectActivity.all() as unknown as Array<Omit<SessionRow, "config">>).map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      conversationStartedAt: row.conversation_started_at,
      lastActiveAt: row.last_active_at,
    }));
  }

  count(): number {
    return (this.#sql.count.get() as { n: number }).n;
  }

  remove(id: string): boolean {
    // The session's messages go with it (ON DELETE CASCADE), in the same statement's transaction.
    return Number(this.#sql.deleteSession.run(id).changes) > 0;
  }

  /**
   * Saves a record in one transaction: an existing session gets its four
   * changing columns updated, the history entries outside `kept` deleted and
   * the new ones appended; a missing one is inserted whole. Without `kept`
   * the stored history is replaced (only this session's rows).
   *
   * @returns the stored sequence number of each `record.history` entry.
   */
  write({ record, kept }: { record: SessionRecord; kept?: KeptHistory }): number[] {
    return this.#transaction(() => {
      const updated = this.#sql.updateSession.get(
        record.initialResponse,
        record.conversation === null ? null : JSON.stringify(record.conversation),
        record.conversationStartedAt,
        record.lastActiveAt,
        record.id,
      ) as { sid: number } | undefined;
      if (updated === undefined) {
        const sid = Number(this.#insertSession(record));
        return this.#append(sid, record.history, 0, 0);
      }
      if (kept === undefined || kept.count === 0) {
        this.#sql.deleteMessages.run(updated.sid);
        return this.#append(updated.sid, record.history, 0, 0);
      }
      const last = kept.first + kept.count - 1;
      this.#sql.deleteMessagesOutside.run(updated.sid, kept.first, last);
      const seqs = Array.from({ length: kept.count }, (_, i) => kept.first + i);
      return seqs.concat(this.#append(updated.sid, record.history, kept.count, last + 1));
    });
  }

  /** Idempotent. (`DatabaseSync.isOpen` is newer than Node 22.13, hence the flag.) */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #insertSession(record: SessionRecord): number | bigint {
    const { credentials, ...rest } = record.config;
    let stored: Uint8Array | null = null;
    if (!record.config.serverCredential) {
      const plaintext = JSON.stringify(credentials);
      stored = this.#cipher?.seal({ plaintext, context: record.id }) ?? Buffer.from(plaintext, "utf8");
    }
    return this.#sql.insertSession.run(
      record.id,
      JSON.stringify(rest),
      stored,
      record.initialPrompt,
      record.initialResponse,
      record.systemTokens,
      record.conversation === null ? null : JSON.stringify(record.conversation),
      record.createdAt,
      record.conversationStartedAt,
      record.lastActiveAt,
    ).lastInsertRowid;
  }

  #append(sid: number, history: readonly HistoryEntry[], from: number, firstSeq: number): number[] {
    const seqs: number[] = [];
    for (let i = from; i < history.length; i++) {
      const entry = history[i]!;
      const seq = firstSeq + (i - from);
      this.#sql.insertMessage.run(sid, seq, entry.role, entry.content, entry.tokens);
      seqs.push(seq);
    }
    return seqs;
  }

  #transaction<T>(body: () => T): T {
    this.#sql.begin.run();
    try {
      const result = body();
      this.#sql.commit.run();
      return result;
    } catch (error) {
      try {
        this.#sql.rollback.run();
      } catch {
        // SQLite may already have rolled back (for example after SQLITE_FULL)
      }
      throw error;
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
      credentials = (base.version === 3 ? this.#server.apiKeys : this.#server.accessTokens) ?? [];
      if (credentials.length === 0) return undefined;
    } else {
      const decoded = decodeCredentials({ stored: row.credentials, context: row.id, cipher: this.#cipher });
      if (decoded === undefined) throw fail("its credentials cannot be decrypted or read");
      credentials = decoded;
    }
    const config: SessionConfig = { ...base, credentials: [...credentials], serverCredential: row.credentials === null };
    let conversation: ConversationState | null = null;
    if (row.conversation !== null) {
      const decoded = decodeConversation(row.conversation);
      if (decoded === undefined) throw fail("its conversation state is not valid");
      conversation = decoded;
    }
    const history: HistoryEntry[] = [];
    const seqs: number[] = [];
    for (const message of messages) {
      if (message.role !== "user" && message.role !== "assistant") throw fail("a message has an unknown role");
      history.push({ role: message.role, content: message.content, tokens: message.tokens });
      seqs.push(message.seq);
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
    return { record, seqs };
  }
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
    selectActivity: p("SELECT id, created_at, conversation_started_at, last_active_at FROM sessions"),
    selectMessages: p("SELECT sid, seq, role, content, tokens FROM messages WHERE sid = ? ORDER BY seq"),
    selectAllMessages: p("SELECT sid, seq, role, content, tokens FROM messages ORDER BY sid, seq"),
    count: p("SELECT count(*) AS n FROM sessions"),
    insertSession: p(
      `INSERT INTO sessions (id, config, credentials, initial_prompt, initial_response, system_tokens, conversation,
         created_at, conversation_started_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateSession: p(
      `UPDATE sessions SET initial_response = ?, conversation = ?, conversation_started_at = ?, last_active_at = ?
         WHERE id = ? RETURNING sid`,
    ),
    deleteSession: p("DELETE FROM sessions WHERE id = ?"),
    deleteMessages: p("DELETE FROM messages WHERE sid = ?"),
    deleteMessagesOutside: p("DELETE FROM messages WHERE sid = ? AND (seq < ? OR seq > ?)"),
    insertMessage: p("INSERT INTO messages (sid, seq, role, content, tokens) VALUES (?, ?, ?, ?, ?)"),
  };
}
