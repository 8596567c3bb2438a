import { type BackendResolver, type Logger, type ServerConfig, SessionPool } from "@chatgptchatbot/core";

/** A session pool with every setting of the server's configuration. */
export function createPoolFromConfig({
  config,
  backends,
  logger,
}: {
  config: ServerConfig;
  backends: BackendResolver;
  logger?: Logger;
}): SessionPool {
  return new SessionPool({
    backends,
    maxSessions: config.maxSessions,
    renewIntervalMs: config.renewIntervalMs,
    sweepIntervalMs: config.sweepIntervalMs,
    cooldown: { accessTokenMs: config.accessTokenCooldownMs, apiKeyMs: config.apiKeyCooldownMs },
    configDefaults: {
      apiKeys: config.defaultApiKeys,
      accessTokens: config.defaultAccessTokens,
      maxTokens: config.maxTokens,
      allowedUpstreamHosts: config.allowedUpstreamHosts,
    },
    logger,
  });
}
