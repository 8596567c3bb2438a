/**
 * @chatgptchatbot/store-redis: several replicas, one pool. Open one
 * {@link RedisConnection} and hand it to a {@link RedisSessionStore} and a
 * {@link RedisCoordinator}; every Redis failure reaches the pool as core's
 * Unavailable "session store unavailable".
 */
export { RedisConnection, DEFAULT_COMMAND_TIMEOUT_MS } from "./redis-connection.js";
export type { RedisConnectionOptions } from "./redis-connection.js";
export { RedisSessionStore } from "./redis-session-store.js";
export type { RedisSessionStoreOptions } from "./redis-session-store.js";
export { RedisCoordinator, DEFAULT_LEASE_MS } from "./redis-coordinator.js";
export type { RedisCoordinatorOptions } from "./redis-coordinator.js";
export { RedisKeys, DEFAULT_REDIS_PREFIX } from "./redis-keys.js";
export { parseRedisUrl, describeRedisEndpoint, RedisUrlError } from "./redis-url.js";
export type { RedisEndpoint } from "./redis-url.js";
export { STORE_UNAVAILABLE_MESSAGE, isStoreUnavailable, storeUnavailable } from "./store-unavailable.js";
export type { CredentialSealer, ServerCredentials } from "./record-codec.js";
export { checkStoreKey, RedisStoreKeyError } from "./store-key-check.js";
export { RedisNamedState } from "./named-state.js";
