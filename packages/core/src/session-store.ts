import type { ConversationState } from "./backend.js";
import type { HistoryEntry } from "./history.js";
import type { SessionConfig } from "./session-config.js";

/**
 * A session's whole state as plain, serializable data (JSON round-trips it),
 * so a persistent or shared store can hold it.
 */
export interface SessionRecord {
  readonly id: string;
  readonly config: SessionConfig;
  /** The initial prompt given at creation (system prompt or first message). */
  readonly initialPrompt: string;
  /** The reply to the initial prompt of the current conversation ("" when none was asked). */
  initialResponse: string;
  /** Tokens of the system prompt, counted once at creation. */
  readonly systemTokens: number;
  /** The conversation so far, oldest first, within the token budget. */
  history: HistoryEntry[];
  /** Backend-owned state of the current conversation, or null. */
  conversation: ConversationState | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** When the current conversation started (creation or last renew). */
  conversationStartedAt: number;
  /** When a client last created or chatted with the session. */
  lastActiveAt: number;
}

/**
 * Where sessions live. The pool may change a record it got from `get` and
 * always calls `set` afterwards to save it; a store that copies must copy on
 * `set` and `get`.
 */
export interface SessionStore {
  get(id: string): Promise<SessionRecord | undefined>;
  set(record: SessionRecord): Promise<void>;
  /** @returns whether a record was deleted. */
  delete(id: string): Promise<boolean>;
  size(): Promise<number>;
  /** Every record, in no particular order. */
  list(): Promise<SessionRecord[]>;
}

/** The in-process store: a Map, no copies. */
export class MemorySessionStore implements SessionStore {
  readonly #records = new Map<string, SessionRecord>();

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#records.get(id);
  }

  async set(record: SessionRecord): Promise<void> {
    this.#records.set(record.id, record);
  }

  async delete(id: string): Promise<boolean> {
    return this.#records.delete(id);
  }

  async size(): Promise<number> {
    return this.#records.size;
  }

  async list(): Promise<SessionRecord[]> {
    return [...this.#records.values()];
  }
}
