/**
 * @chatgptchatbot/store-redis: several replicas, one pool. Open one
 * {@link RedisConnection} and hand it to a {@link RedisSessionStore} and a
 * {@link RedisCoordinator}; every Redis failure reaches the pool as core's
 * Unavailable "session store unavailable".
 */

export { RedisNamedState } from "./named-state.js";
export type { CredentialSealer, ServerCredentials } from "./record-codec.js";
export type { RedisConnectionOptions } from "./redis-connection.js";
export { DEFAULT_COMMAND_TIMEOUT_MS, RedisConnection } from "./redis-connection.js";
export type { RedisCoordinatorOptions } from "./redis-coordinator.js";
export { DEFAULT_LEASE_MS, RedisCoordinator } from "./redis-coordinator.js";
export { DEFAULT_REDIS_PREFIX, RedisKeys } from "./redis-keys.js";
export type { RedisSessionStoreOptions } from "./redis-session-store.js";
export { RedisSessionStore } from "./redis-session-store.js";
export type { RedisEndpoint } from "./redis-url.js";
export { describeRedisEndpoint, parseRedisUrl, RedisUrlError } from "./redis-url.js";
export { checkStoreKey, RedisStoreKeyError } from "./store-key-check.js";
export { isStoreUnavailable, STORE_UNAVAILABLE_MESSAGE, storeUnavailable } from "./store-unavailable.js";
