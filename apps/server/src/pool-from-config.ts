import {
  type BackendResolver,
  type Coordinator,
  type Logger,
  MemorySessionStore,
  type PoolObserver,
  SessionPool,
  type SessionPoolOptions,
  type SessionStore,
} from "@chatgptchatbot/core";
import type { ServerConfig } from "./config.js";
import { InstrumentedSessionStore, type StoreObserver } from "./instrumented-store.js";

/**
 * The pool options a server configuration implies (limits, intervals,
 * cooldowns, default credentials, budget, allowlist, segment lengths); add `backends`.
 */
export function poolOptionsFromConfig(config: ServerConfig): Omit<SessionPoolOptions, "backends"> {
  return {
    maxSessions: config.maxSessions,
    renewIntervalMs: config.renewIntervalMs,
    sweepIntervalMs: config.sweepIntervalMs,
    limits: { promptChars: config.maxPromptChars, initialPromptChars: config.maxInitialPromptChars },
    segments: { firstMinLength: config.firstSegmentMinLength, maxLength: config.maxSegmentLength },
    cooldown: { accessTokenMs: config.accessTokenCooldownMs, apiKeyMs: config.apiKeyCooldownMs },
    configDefaults: {
      apiKeys: config.defaultApiKeys,
      accessTokens: config.defaultAccessTokens,
      maxTokens: config.maxTokens,
      allowedUpstreamHosts: config.allowedUpstreamHosts,
    },
  };
}

/**
 * The one session pool of the process, with every setting of the server's
 * configuration: both transports share it, so a credential's cooldown counts
 * requests from every transport. `store` and `coordinator` (default: in
 * memory) come from CHATBOT_STORE (see session-storage.ts).
 */
export function createPoolFromConfig({
  config,
  backends,
  logger,
  store,
  coordinator,
  observer,
  observeStore,
}: {
  config: ServerConfig;
  backends: BackendResolver;
  logger?: Logger;
  store?: SessionStore;
  coordinator?: Coordinator;
  /** Told about cooldown refusals, first sentences and tokens (metrics). */
  observer?: PoolObserver;
  /**
   * Told about every store operation (metrics): the store (the pool's in-memory one when none is given) is wrapped
   * in an {@link InstrumentedSessionStore}.
   */
  observeStore?: StoreObserver;
}): SessionPool {
  const measured =
    observeStore === undefined
      ? store
      : new InstrumentedSessionStore({ store: store ?? new MemorySessionStore(), observe: observeStore });
  return new SessionPool({
    ...poolOptionsFromConfig(config),
    backends,
    logger,
    store: measured,
    coordinator,
    ...(observer === undefined ? {} : { observer }),
  });
}
