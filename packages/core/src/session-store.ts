import type { ConversationState } from "./backend.js";
import type { HistoryEntry } from "./history.js";
import type { SessionConfig } from "./session-config.js";

/**
 * A session's whole state as plain, serializable data (JSON round-trips it),
 * so a persistent or shared store can hold it. Read-only for the pool: every
 * change goes through one of the store's writes.
 */
export interface SessionRecord {
  readonly id: string;
  readonly config: SessionConfig;
  /** The initial prompt given at creation (system prompt or first message). */
  readonly initialPrompt: string;
  /** The reply to the initial prompt of the current conversation ("" when none was asked). */
  readonly initialResponse: string;
  /** Tokens of the system prompt, counted once at creation. */
  readonly systemTokens: number;
  /** The conversation so far, oldest first, within the token budget. */
  readonly history: readonly HistoryEntry[];
  /** Backend-owned state of the current conversation, or null. */
  readonly conversation: ConversationState | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** When the current conversation started (creation or last renew). */
  readonly conversationStartedAt: number;
  /** When a client last created or chatted with the session. */
  readonly lastActiveAt: number;
}

/** One chat's change to a session: a single write, whatever the history's length. */
export interface TurnWrite {
  /** How many of the oldest history entries to drop first (they no longer fit the budget). */
  readonly drop: number;
  /** The entries to append: the prompt and its reply. */
  readonly append: readonly HistoryEntry[];
  readonly conversation: ConversationState | null;
  readonly lastActiveAt: number;
}

/** A renew's change to a session: a new conversation, history emptied. */
export interface RenewWrite {
  readonly initialResponse: string;
  readonly conversation: ConversationState | null;
  readonly conversationStartedAt: number;
}

/**
 * What a fenced write did: "written"; "not-found" (the session was deleted,
 * perhaps while the chat was in flight); "stale" (a write with a higher
 * fencing token came first: this writer's turn was lost, and it must not
 * overwrite what the newer holder wrote).
 */
export type WriteOutcome = "written" | "not-found" | "stale";

/**
 * Where sessions live. Writes after creation are fenced: each carries the
 * token of the session's turn (see `TurnLease`), and the store refuses a
 * token lower than the highest it has accepted for that session, so a writer
 * whose turn expired never overwrites history.
 *
 * A record returned by `get` or `list` may be the store's own (the in-process
 * store does not copy): callers must not change it, and may read its
 * `history` only until their next write.
 */
export interface SessionStore {
  get(id: string): Promise<SessionRecord | undefined>;
  /** Stores a new session. @throws when a session with that id exists. */
  create(record: SessionRecord): Promise<void>;
  /** Records one chat: drops the oldest entries, appends the new ones, sets conversation and activity. */
  appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome>;
  /** Starts a new conversation: history emptied, new initial response, conversation state and start time. */
  renew(id: string, fence: number, fresh: RenewWrite): Promise<WriteOutcome>;
  /** @returns whether a record was deleted. */
  delete(id: string): Promise<boolean>;
  size(): Promise<number>;
  /** Every record, in no particular order. */
  list(): Promise<SessionRecord[]>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
interface Stored {
  record: Mutable<SessionRecord> & { history: HistoryEntry[] };
  /** The highest fencing token accepted. */
  fence: number;
}

/** The in-process store: a Map, records kept as given (no copies). */
export class MemorySessionStore implements SessionStore {
  readonly #records = new Map<string, Stored>();

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#records.get(id)?.record;
  }

  async create(record: SessionRecord): Promise<void> {
    if (this.#records.has(record.id)) throw new Error(`session ${record.id} exists`);
    this.#records.set(record.id, { record: { ...record, history: [...record.history] }, fence: 0 });
  }

  async appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome> {
    const stored = this.#fenced(id, fence);
    if (typeof stored === "string") return stored;
    const { record } = stored;
    // In place: a chat costs the new entries, not a copy of the history.
    if (turn.drop > 0) record.history.splice(0, turn.drop);
    record.history.push(...turn.append);
    record.conversation = turn.conversation;
    record.lastActiveAt = turn.lastActiveAt;
    return "written";
  }

  async renew(id: string, fence: number, fresh: RenewWrite): Promise<WriteOutcome> {
    const stored = this.#fenced(id, fence);
    if (typeof stored === "string") return stored;
    const { record } = stored;
    record.history = [];
    record.initialResponse = fresh.initialResponse;
    record.conversation = fresh.conversation;
    record.conversationStartedAt = fresh.conversationStartedAt;
    return "written";
  }

  async delete(id: string): Promise<boolean> {
    return this.#records.delete(id);
  }

  async size(): Promise<number> {
    return this.#records.size;
  }

  async list(): Promise<SessionRecord[]> {
    return [...this.#records.values()].map((stored) => stored.record);
  }

  #fenced(id: string, fence: number): Stored | "not-found" | "stale" {
    const stored = this.#records.get(id);
    if (stored === undefined) return "not-found";
    if (fence < stored.fence) return "stale";
    stored.fence = fence;
    return stored;
  }
}
