import { type Backends, createBackends, type ProxyEnv, type UpstreamObserver } from "@chatgptchatbot/chatgpt-client";
import type { Logger } from "@chatgptchatbot/core";
import type { ServerConfig } from "./config.js";

/**
 * Both backends from the server's configuration (API_URL, CHATGPT_BASE_URL,
 * CHATGPT_MODEL, CHATBOT_REQUEST_TIMEOUT, CHATBOT_MAX_RETRIES); the proxy
 * variables (HTTP_PROXY / HTTPS_PROXY / NO_PROXY) are read from `proxyEnv`.
 *
 * @throws ConfigError for a proxy variable that is not an http(s) URL.
 */
export function createBackendsFromConfig({
  config,
  proxyEnv,
  logger,
  observer,
}: {
  config: ServerConfig;
  proxyEnv?: ProxyEnv;
  logger?: Logger;
  /** Told about upstream requests and retries (metrics). */
  observer?: UpstreamObserver;
}): Backends {
  return createBackends({
    apiUrl: config.apiUrl,
    chatgptBaseUrl: config.chatgptBaseUrl,
    model: config.model,
    requestTimeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    proxyEnv,
    logger,
    observer,
  });
}
