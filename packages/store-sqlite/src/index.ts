/**
 * @chatgptchatbot/store-sqlite: a durable SessionStore on node:sqlite.
 * Start with {@link openSqliteSessionStore} and a {@link SqliteCoordinator}
 * on it (cooldowns that survive a restart); catch {@link SqliteStoreError}
 * at start (print its one-line message, exit 2).
 */

export { CredentialCipher, parseStoreKey, STORE_KEY_BYTES } from "./credential-cipher.js";
export type { OpenDatabaseOptions } from "./database.js";
export { defaultStorePath } from "./default-store-path.js";
export { SCHEMA_VERSION } from "./schema.js";
export type { ServerCredentials, SessionActivity } from "./session-table.js";
export { SqliteCoordinator } from "./sqlite-coordinator.js";
export type { SqliteSessionStoreOptions } from "./sqlite-session-store.js";
export { openSqliteSessionStore, SqliteSessionStore } from "./sqlite-session-store.js";
export type { SqliteStoreErrorOptions } from "./sqlite-store-error.js";
export { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";
