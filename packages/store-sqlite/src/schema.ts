import type { DatabaseSync } from "node:sqlite";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

/**
 * `PRAGMA application_id` of our files ("CGCB"): tells a session store from
 * any other SQLite database, so we never migrate someone else's file.
 */
export const APPLICATION_ID = 0x43474342;

/** One step of the schema; `version` is the `PRAGMA user_version` it leaves. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/**
 * The schema, oldest first. Never edit a released step: add one. Each runs in
 * its own transaction together with the `user_version` bump, so a crash
 * mid-migration leaves the previous version intact.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      -- Store-wide facts, such as the check value of CHATBOT_STORE_KEY.
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
      ) WITHOUT ROWID;

      -- One row per session: what changes per turn is four columns wide.
      CREATE TABLE sessions (
        sid                     INTEGER PRIMARY KEY,
        id                      TEXT NOT NULL UNIQUE,
        -- SessionConfig as JSON, without its credentials.
        config                  TEXT NOT NULL,
        -- NULL: the server's default credentials (never written, resolved at load).
        -- Else a JSON array of strings, sealed with AES-256-GCM when the store has a key.
        credentials             BLOB,
        initial_prompt          TEXT NOT NULL,
        initial_response        TEXT NOT NULL,
        system_tokens           INTEGER NOT NULL,
        conversation            TEXT,
        created_at              INTEGER NOT NULL,
        conversation_started_at INTEGER NOT NULL,
        last_active_at          INTEGER NOT NULL,
        -- The highest fencing token a write was accepted with: a write with a
        -- lower one comes from a turn that was lost, and is refused.
        fence                   INTEGER NOT NULL DEFAULT 0
      );

      -- The history, one row per message: a turn appends two rows and
      -- trimming deletes the oldest, so no chat rewrites what is already stored.
      CREATE TABLE messages (
        sid     INTEGER NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        role    TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        tokens  INTEGER NOT NULL,
        PRIMARY KEY (sid, seq)
      ) WITHOUT ROWID;

      -- When each credential was last used upstream, so a restart keeps its
      -- cooldown. Keyed by an HMAC-SHA256 of the credential (the store's
      -- random salt in meta as the key): the credential itself is never written.
      CREATE TABLE cooldowns (
        credential_hash BLOB PRIMARY KEY,
        last_used_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `
      -- Chat turns as committed, one row each, until they are folded into
      -- sessions and messages (see SessionTable.foldJournal): a turn is one
      -- INSERT at the end of this table instead of an UPDATE, a DELETE and an
      -- INSERT per message in each session's part of the messages tree.
      -- Rows exist only for sessions that still exist: deleting a session
      -- deletes its rows in the same transaction, and renewing one takes its
      -- last turn's fence, conversation and activity into its row first.
      CREATE TABLE turn_journal (
        seq            INTEGER PRIMARY KEY,
        sid            INTEGER NOT NULL,
        -- The turn's fencing token: the session's fence once it is folded.
        fence          INTEGER NOT NULL,
        -- The session's first kept message after the turn (older ones are dropped).
        first          INTEGER NOT NULL,
        -- The sequence number of the turn's first new message.
        next           INTEGER NOT NULL,
        -- The new messages: a JSON array of {role, content, tokens}.
        entries        TEXT NOT NULL,
        conversation   TEXT,
        last_active_at INTEGER NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Brings a database to the newest schema in `migrations`, or explains in a
 * typed error why it cannot: another application's file, or a newer schema
 * than this program knows.
 */
export function migrate({
  db,
  file,
  migrations = MIGRATIONS,
}: {
  db: DatabaseSync;
  file: string;
  migrations?: readonly Migration[];
}): { from: number; to: number } {
  const applicationId = pragmaNumber(db, "application_id");
  const from = pragmaNumber(db, "user_version");
  const latest = migrations.at(-1)?.version ?? 0;
  if (applicationId !== APPLICATION_ID) {
    // A brand-new file (no tables at all) becomes ours; anything else is not.
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
    if (applicationId !== 0 || from !== 0 || tables.n !== 0) {
      throw new SqliteStoreError({
        problem: SqliteStoreProblem.NotAStore,
        file,
        detail: "an SQLite database, but not a chatgptchatbot session store",
      });
    }
  }
  if (from > latest) {
    throw new SqliteStoreError({
      problem: SqliteStoreProblem.NewerSchema,
      file,
      detail: `schema version ${from} was written by a newer chatgptchatbot (this one reads up to ${latest}); upgrade, or point CHATBOT_STORE elsewhere`,
    });
  }
  for (const step of migrations) {
    if (step.version <= from) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(step.sql);
      // PRAGMAs take no bound parameters; both values are integers we own.
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${Math.trunc(step.version)}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return { from, to: Math.max(from, latest) };
}

export function pragmaNumber(db: DatabaseSync, name: "application_id" | "user_version" | "page_size"): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  const value = row?.[name];
  return typeof value === "number" ? value : 0;
}
