import { type BackendResolver, type Logger, poolOptionsFromConfig, type ServerConfig, SessionPool } from "@chatgptchatbot/core";

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
  return new SessionPool({ ...poolOptionsFromConfig(config), backends, logger });
}
