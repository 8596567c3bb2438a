import {
  type BackendResolver,
  type Logger,
  MemorySessionStore,
  type PoolObserver,
  SessionPool,
  type SessionPoolOptions,
} from "@chatgptchatbot/core";
import type { ServerConfig } from "./config.js";
import { InstrumentedSessionStore, type StoreObserver } from "./instrumented-store.js";

/**
 * The pool options a server configuration implies (limits, intervals,
 * cooldowns, default credentials, budget, allowlist); add `backends`.
 */
export function poolOptionsFromConfig(config: ServerConfig): Omit<SessionPoolOptions, "backends"> {
  return {
    maxSessions: config.maxSessions,
    renewIntervalMs: config.renewIntervalMs,
    sweepIntervalMs: config.sweepIntervalMs,
    limits: { promptChars: config.maxPromptChars, initialPromptChars: config.maxInitialPromptChars },
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
 * requests from every transport.
 */
export function createPoolFromConfig({
  config,
  backends,
  logger,
  observer,
  observeStore,
}: {
  config: ServerConfig;
  backends: BackendResolver;
  logger?: Logger;
  /** Told about cooldown refusals, first sentences and tokens (metrics). */
  observer?: PoolObserver;
  /** Told about every store operation (metrics): the store is wrapped in an {@link InstrumentedSessionStore}. */
  observeStore?: StoreObserver;
}): SessionPool {
  const store = new MemorySessionStore();
  return new SessionPool({
    ...poolOptionsFromConfig(config),
    backends,
    logger,
    ...(observer === undefined ? {} : { observer }),
    store: observeStore === undefined ? store : new InstrumentedSessionStore({ store, observe: observeStore }),
  });
}
