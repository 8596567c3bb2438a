import { Agent, type Dispatcher, EnvHttpProxyAgent } from "undici";
import type { ProxySettings } from "./proxy-settings.js";

export interface UpstreamDispatcherOptions {
  /** Where to send upstream traffic; no proxy when omitted. */
  readonly proxy?: ProxySettings;
  /**
   * How long an idle keep-alive connection is kept (default 30 s, so a session
   * chatting every cooldown interval stays warm; a server's `Keep-Alive: timeout`
   * hint takes precedence, and a connection the server closed meanwhile is
   * retried as a connection failure).
   */
  readonly keepAliveTimeoutMs?: number;
}

const DEFAULT_KEEP_ALIVE_MS = 30_000;

/**
 * The one undici dispatcher all upstream requests share: keep-alive
 * connection pools per origin, routed through HTTP_PROXY / HTTPS_PROXY except
 * for NO_PROXY hosts. Built from the given settings only (never from
 * `process.env`), once per {@link createBackends}.
 *
 * Timeouts are not set here: each request passes its own.
 */
export function createUpstreamDispatcher({
  proxy,
  keepAliveTimeoutMs = DEFAULT_KEEP_ALIVE_MS,
}: UpstreamDispatcherOptions = {}): Dispatcher {
  const agentOptions = { keepAliveTimeout: keepAliveTimeoutMs };
  if (proxy === undefined || (proxy.httpProxy === undefined && proxy.httpsProxy === undefined)) {
    return new Agent(agentOptions);
  }
  // Empty strings, not undefined: EnvHttpProxyAgent reads process.env for a missing value.
  return new EnvHttpProxyAgent({
    ...agentOptions,
    httpProxy: proxy.httpProxy ?? "",
    httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? "",
    noProxy: proxy.noProxy ?? "",
  });
}
