import type { RenewWrite, SessionRecord, SessionStore, TurnWrite, WriteOutcome } from "@chatgptchatbot/core";
import {
  type CredentialSealer,
  decodeRecord,
  encodeConversation,
  encodeEntry,
  encodeFields,
  type ServerCredentials,
} from "./record-codec.js";
import type { RedisConnection } from "./redis-connection.js";
import {
  APPEND_TURN,
  COUNT_SESSIONS,
  CREATE_SESSION,
  DELETE_SESSION,
  READ_SESSION,
  RENEW_SESSION,
} from "./session-scripts.js";

export interface RedisSessionStoreOptions {
  /** The connection it shares with the {@link RedisCoordinator}. */
  readonly connection: RedisConnection;
  /**
   * The zombie time: a record nobody created or chatted with for this long
   * expires in Redis by itself (refreshed on every chat). 0: never. The
   * pool's sweeper evicts zombies before that; the TTL catches records a
   * sweep never reaches (every replica gone, or the setting lowered).
   */
  readonly ttlMs?: number;
  /** Seals credentials in records (`CHATBOT_STORE_KEY`); without it they are stored as JSON. */
  readonly cipher?: CredentialSealer;
  /** The server's default credentials by kind, which records refer to and never contain. */
  readonly serverCredentials?: ServerCredentials;
}

/** How many records `list` reads at once: bounds the replies in flight, not the total. */
const LIST_BATCH = 256;

/**
 * A {@link SessionStore} on Redis, shared by every replica. Each write is one
 * Lua script: whole or not at all, and fenced (a token lower than the
 * session's highest accepted one is refused before anything is written).
 * Every Redis failure is core's Unavailable "session store unavailable".
 */
export class RedisSessionStore implements SessionStore {
  readonly #connection: RedisConnection;
  readonly #ttlMs: number;
  readonly #codec: { cipher: CredentialSealer | undefined; serverCredentials: ServerCredentials };

  constructor({ connection, ttlMs = 0, cipher, serverCredentials = {} }: RedisSessionStoreOptions) {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new RangeError("ttlMs must be a non-negative integer");
    this.#connection = connection;
    this.#ttlMs = ttlMs;
    this.#codec = { cipher, serverCredentials };
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const reply = await this.#connection.run((client) => READ_SESSION.run(client, this.#sessionKeys(id), []));
    return this.#decode(id, reply);
  }

  async create(record: SessionRecord): Promise<void> {
    const fields = encodeFields(record, this.#codec);
    const args = [this.#ttlMs, record.id, fields.length / 2, ...fields, ...record.history.map(encodeEntry)];
    const created = await this.#connection.run((client) => CREATE_SESSION.run(client, this.#allKeys(record.id), args));
    if (created !== 1) throw new Error(`session ${record.id} exists`);
  }

  async appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome> {
    const conversation = encodeConversation(turn.conversation);
    const args = [fence, this.#ttlMs, id, turn.drop, conversation, turn.lastActiveAt, ...turn.append.map(encodeEntry)];
    return outcome(await this.#connection.run((client) => APPEND_TURN.run(client, this.#allKeys(id), args)));
  }

  async renew(id: string, fence: number, fresh: RenewWrite): Promise<WriteOutcome> {
    const args = [fence, fresh.initialResponse, encodeConversation(fresh.conversation), fresh.conversationStartedAt];
    return outcome(await this.#connection.run((client) => RENEW_SESSION.run(client, this.#sessionKeys(id), args)));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#connection.run((client) => DELETE_SESSION.run(client, this.#allKeys(id), [id]))) === 1;
  }

  async size(): Promise<number> {
    return Number(
      await this.#connection.run((client) => COUNT_SESSIONS.run(client, [this.#connection.keys.sessionIndex], [])),
    );
  }

  async list(): Promise<SessionRecord[]> {
    const keys = this.#connection.keys;
    const ids = await this.#connection.run((client) => client.zrange(keys.sessionIndex, "0", "-1"));
    const records: SessionRecord[] = [];
    for (let i = 0; i < ids.length; i += LIST_BATCH) {
      // Each read is its own script (a consistent snapshot of one session); a batch shares one round trip.
      const batch = ids.slice(i, i + LIST_BATCH);
      const replies = await this.#connection.run((client) =>
        Promise.all(batch.map((id) => READ_SESSION.run(client, this.#sessionKeys(id), []))),
      );
      batch.forEach((id, j) => {
        const record = this.#decode(id, replies[j]);
        if (record !== undefined) records.push(record);
      });
    }
    return records;
  }

  #decode(id: string, reply: unknown): SessionRecord | undefined {
    if (!Array.isArray(reply)) return undefined; // no such session (or expired)
    const [fields, history] = reply as [string[], string[]];
    const decoded = decodeRecord(id, fields, history, this.#codec);
    if (decoded.ok) return decoded.record;
    // A record this replica cannot read is reported and treated as absent, never served half-read.
    this.#connection.logger.warn(
      { session: id.slice(0, 8), problem: decoded.reason },
      "session store: unreadable record skipped",
    );
    return undefined;
  }

  #sessionKeys(id: string): string[] {
    const keys = this.#connection.keys;
    return [keys.session(id), keys.history(id)];
  }

  #allKeys(id: string): string[] {
    const keys = this.#connection.keys;
    return [keys.session(id), keys.history(id), keys.sessionIndex];
  }
}

function outcome(reply: unknown): WriteOutcome {
  if (reply === "written" || reply === "not-found" || reply === "stale") return reply;
  throw new Error(`unexpected reply from the session store: ${String(reply).slice(0, 40)}`);
}
