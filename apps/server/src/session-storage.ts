import { type Coordinator, MemoryCoordinator, MemorySessionStore, type SessionStore } from "@chatgptchatbot/core";
import type { DefaultSessionMemory, DefaultSessionSnapshot } from "@chatgptchatbot/http-server";
import {
  defaultStorePath,
  openSqliteSessionStore,
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
  /** For the start log line: the store's kind and, for a file, its absolute path. */
  readonly description: { readonly store: StoreChoice["kind"]; readonly storePath?: string };
  /** Closes the file (after the pool has stopped). Idempotent. */
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

/** The meta name of the HTTP API's default session in a SQLite store. */
const DEFAULT_SESSION_STATE = "http-default-session";

/**
 * Opens the store CHATBOT_STORE chose, with the coordinator that belongs to
 * it: in memory, MemorySessionStore and MemoryCoordinator (nothing survives
 * a restart); SQLite, the file (owner-only, migrated, key checked) and a
 * SqliteCoordinator that keeps cooldowns in it; Redis, not yet.
 *
 * @throws SqliteStoreError or StoreOpenError, whose message is the one line to print.
 */
export function openSessionStorage({
  choice,
  key,
  serverCredentials,
  env,
  homeDir,
  now,
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
}): SessionStorage {
  switch (choice.kind) {
    case "memory":
      return {
        store: new MemorySessionStore(),
        coordinator: new MemoryCoordinator(now === undefined ? {} : { now }),
        defaultSessionMemory: undefined,
        description: { store: "memory" },
        close: async () => undefined,
      };
    case "sqlite": {
      let file: string;
      try {
        file = choice.file ?? defaultStorePath({ env, homeDir });
      } catch (error) {
        throw new StoreOpenError(`session store: ${error instanceof Error ? error.message : String(error)}`);
      }
      const store = openSqliteSessionStore({ file, key, serverCredentials });
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
        close: async () => store.close(),
      };
    }
    case "redis":
      // The hook for packages/store-redis: open the shared store and its
      // coordinator here. Until then, a clear refusal (the URL may hold a
      // password, so it is not repeated).
      throw new StoreOpenError(
        "session store: CHATBOT_STORE=redis://… is not supported yet; use sqlite:PATH (the default) or memory",
      );
  }
}

/** The default session's snapshot as a JSON state value in the SQLite file (sealed with the store key). */
function sqliteDefaultSessionMemory(store: SqliteSessionStore): DefaultSessionMemory {
  return {
    async load() {
      const text = await store.readState(DEFAULT_SESSION_STATE);
      if (text === undefined) return undefined;
      const value = JSON.parse(text) as Partial<DefaultSessionSnapshot> | null;
      if (typeof value?.sessionId !== "string" || typeof value.config !== "string") return undefined;
      return { sessionId: value.sessionId, config: value.config };
    },
    async save(snapshot) {
      await store.writeState(DEFAULT_SESSION_STATE, JSON.stringify({ sessionId: snapshot.sessionId, config: snapshot.config }));
    },
  };
}

