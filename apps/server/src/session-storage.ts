import {
  type Coordinator,
  type Logger,
  MemoryCoordinator,
  MemorySessionStore,
  type SessionStore,
} from "@chatgptchatbot/core";
import type { DefaultSessionMemory, DefaultSessionSnapshot } from "@chatgptchatbot/http-server";
import {
  checkStoreKey,
  isStoreUnavailable,
  RedisConnection,
  RedisCoordinator,
  RedisNamedState,
  RedisSessionStore,
  RedisStoreKeyError,
} from "@chatgptchatbot/store-redis";
import {
  CredentialCipher,
  defaultStorePath,
  openSqliteSessionStore,
  parseStoreKey,
  type ServerCredentials,
  SqliteCoordinator,
  type SqliteSessionStore,
} from "@chatgptchatbot/store-sqlite";
import type { StoreChoice } from "./store-choice.js";

/** What the program keeps its sessions in, and how the pool coordinates over it. */
export interface SessionStorage {
  readonly store: SessionStore;
  readonly coordinator: Coordinator;
  /** Where the HTTP API's default session is remembered across a restart; undefined: nowhere (memory). */
  readonly defaultSessionMemory: DefaultSessionMemory | undefined;
  /** For the start log line: the store's kind and, for a file, its absolute path; for Redis, its address (password masked). */
  readonly description: { readonly store: StoreChoice["kind"]; readonly storePath?: string; readonly redis?: string };
  /**
   * Whether the store can be reached now, for health (cheap: polled about once a second); undefined: always (the
   * in-process stores, whose failures are the disk's and show per call).
   */
  readonly isReady: (() => boolean) | undefined;
  /** Closes the file or the connection (after the pool has stopped). Idempotent. */
  close(): Promise<void>;
}

/**
 * Why the chosen store cannot be used at start: one line naming the store
 * and the problem (the program prints it and exits 2). A SQLite file's
 * problems (corrupt, newer schema, wrong key, …) come as the store's own
 * SqliteStoreError, whose message already names the file.
 */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}

/** The state name of the HTTP API's default session (a SQLite meta row, a Redis `state:` key). */
const DEFAULT_SESSION_STATE = "http-default-session";
/** How long a start waits for Redis to answer before it gives up (a replica started while Redis is down exits 2). */
export const REDIS_START_TIMEOUT_MS = 10_000;

/**
 * Opens the store CHATBOT_STORE chose, with the coordinator that belongs to
 * it: in memory, MemorySessionStore and MemoryCoordinator (nothing survives
 * a restart); SQLite, the file (owner-only, migrated, key checked) and a
 * SqliteCoordinator that keeps cooldowns in it; Redis, one connection shared
 * by a RedisSessionStore (a record expires after the zombie time) and a
 * RedisCoordinator, once Redis answered and the store key was checked
 * against the one every other replica uses.
 *
 * @throws SqliteStoreError or StoreOpenError, whose message is the one line to print.
 */
export async function openSessionStorage({
  choice,
  key,
  serverCredentials,
  env,
  homeDir,
  now,
  redisPrefix,
  zombieAfterMs = 0,
  logger,
  redisStartTimeoutMs = REDIS_START_TIMEOUT_MS,
}: {
  choice: StoreChoice;
  /** CHATBOT_STORE_KEY as given, or undefined. */
  key: string | undefined;
  /** The server's default credentials: records refer to them and never contain them. */
  serverCredentials: ServerCredentials;
  /** For the default path (XDG_STATE_HOME). */
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  now?: () => number;
  /** CHATBOT_REDIS_PREFIX (default: store-redis's, `chatgptchatbot:`). */
  redisPrefix?: string;
  /** The pool's zombie time: a Redis record nobody chats with expires after it (0: never). */
  zombieAfterMs?: number;
  /** For the Redis connection's outage lines (never the password) and SQLite's failed journal folds. */
  logger?: Logger;
  redisStartTimeoutMs?: number;
}): Promise<SessionStorage> {
  switch (choice.kind) {
    case "memory":
      return {
        store: new MemorySessionStore(),
        coordinator: new MemoryCoordinator(now === undefined ? {} : { now }),
        defaultSessionMemory: undefined,
        description: { store: "memory" },
        isReady: undefined,
        close: async () => undefined,
      };
    case "sqlite": {
      let file: string;
      try {
        file = choice.file ?? defaultStorePath({ env, homeDir });
      } catch (error) {
        throw new StoreOpenError(`session store: ${error instanceof Error ? error.message : String(error)}`);
      }
      const store = openSqliteSessionStore({
        file,
        key,
        serverCredentials,
        // No caller sees it (the turns are committed either way), so the log is where an operator learns of it.
        onFoldError: (error) =>
          logger?.warn(
            { err: error.message },
            "session store: folding the turn journal failed; its turns stay committed, the next fold tries again",
          ),
      });
      let coordinator: SqliteCoordinator;
      try {
        coordinator = new SqliteCoordinator({ store, ...(now === undefined ? {} : { now }) });
      } catch (error) {
        store.close();
        throw error;
      }
      return {
        store,
        coordinator,
        defaultSessionMemory: sqliteDefaultSessionMemory(store),
        description: { store: "sqlite", storePath: store.file },
        isReady: undefined,
        close: async () => store.close(),
      };
    }
    case "redis":
      return await openRedisStorage({
        choice,
        key,
        serverCredentials,
        redisPrefix,
        zombieAfterMs,
        logger,
        redisStartTimeoutMs,
      });
  }
}

async function openRedisStorage({
  choice,
  key,
  serverCredentials,
  redisPrefix,
  zombieAfterMs,
  logger,
  redisStartTimeoutMs,
}: {
  choice: Extract<StoreChoice, { kind: "redis" }>;
  key: string | undefined;
  serverCredentials: ServerCredentials;
  redisPrefix: string | undefined;
  zombieAfterMs: number;
  logger: Logger | undefined;
  redisStartTimeoutMs: number;
}): Promise<SessionStorage> {
  const cipher = storeCipher(key);
  const connection = new RedisConnection({
    url: choice.endpoint,
    ...(redisPrefix === undefined ? {} : { prefix: redisPrefix }),
    ...(logger === undefined ? {} : { logger }),
  });
  try {
    await connection.waitUntilReady({ timeoutMs: redisStartTimeoutMs });
    await checkStoreKey({ connection, cipher });
  } catch (error) {
    await connection.close();
    if (error instanceof RedisStoreKeyError) throw new StoreOpenError(error.message);
    if (isStoreUnavailable(error)) {
      throw new StoreOpenError(
        `session store ${connection.describe()}: Redis did not answer within ${redisStartTimeoutMs / 1000} s (is it running, and is the password right?)`,
      );
    }
    throw error;
  }
  const store = new RedisSessionStore({
    connection,
    ttlMs: zombieAfterMs,
    ...(cipher === undefined ? {} : { cipher }),
    serverCredentials: {
      "api-key": serverCredentials.apiKeys ?? [],
      "access-token": serverCredentials.accessTokens ?? [],
      ...serverCredentials.credentials,
    },
  });
  const coordinator = new RedisCoordinator({ connection });
  const state = new RedisNamedState({ connection, cipher });
  return {
    store,
    coordinator,
    defaultSessionMemory: {
      ...jsonDefaultSessionMemory({
        read: () => state.read(DEFAULT_SESSION_STATE),
        write: (text) => state.write(DEFAULT_SESSION_STATE, text),
      }),
      // Replicas creating the default session at once agree on the first one saved (compare-and-set in Redis).
      async claim({ snapshot, replacing }) {
        const text = await state.update(DEFAULT_SESSION_STATE, (current) =>
          parseSnapshot(current)?.sessionId === replacing ? JSON.stringify(snapshot) : undefined,
        );
        return parseSnapshot(text) ?? snapshot;
      },
    },
    description: { store: "redis", redis: connection.describe() },
    isReady: () => connection.isReady(),
    close: async () => {
      coordinator.close();
      await connection.close();
    },
  };
}

/** CHATBOT_STORE_KEY (validated by the configuration already) as the cipher that seals credentials, or undefined. */
function storeCipher(key: string | undefined): CredentialCipher | undefined {
  if (key === undefined || key.trim() === "") return undefined;
  const parsed = parseStoreKey(key);
  if (!parsed.ok) throw new StoreOpenError(`session store: ${parsed.reason}`);
  return new CredentialCipher({ key: parsed.key });
}

/** The default session's snapshot as a JSON state value in the SQLite file (sealed with the store key). */
function sqliteDefaultSessionMemory(store: SqliteSessionStore): DefaultSessionMemory {
  return jsonDefaultSessionMemory({
    read: () => store.readState(DEFAULT_SESSION_STATE),
    write: (text) => store.writeState(DEFAULT_SESSION_STATE, text),
  });
}

/** The default session's snapshot as one JSON text in a named state value (the store seals it when keyed). */
function jsonDefaultSessionMemory({
  read,
  write,
}: {
  read: () => Promise<string | undefined>;
  write: (text: string) => Promise<void>;
}): DefaultSessionMemory {
  return {
    async load() {
      return parseSnapshot(await read());
    },
    async save(snapshot) {
      await write(JSON.stringify({ sessionId: snapshot.sessionId, config: snapshot.config }));
    },
  };
}

/** A saved default-session snapshot, or undefined when there is none or it is not one. */
function parseSnapshot(text: string | undefined): DefaultSessionSnapshot | undefined {
  if (text === undefined) return undefined;
  let value: Partial<DefaultSessionSnapshot> | null;
  try {
    value = JSON.parse(text) as Partial<DefaultSessionSnapshot> | null;
  } catch {
    return undefined;
  }
  if (typeof value?.sessionId !== "string" || typeof value.config !== "string") return undefined;
  return { sessionId: value.sessionId, config: value.config };
}
