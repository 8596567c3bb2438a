import {
  ACCESS_TOKEN_KIND,
  API_KEY_KIND,
  type Backend,
  type BackendKind,
  type BackendResolver,
  ChatbotError,
  type Logger,
  silentLogger,
} from "@chatgptchatbot/core";
import type { Dispatcher } from "undici";
import { ChatGPTWebBackend } from "./chatgpt-web/chatgpt-web-backend.js";
import { createUpstreamDispatcher } from "./http/dispatcher.js";
import { describeProxy, type ProxyEnv, readProxySettings, usesProxy } from "./http/proxy-settings.js";
import type { Sleep } from "./http/retry.js";
import { OpenAIBackend } from "./openai/openai-backend.js";
import type { UpstreamObserver } from "./upstream-observer.js";

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

export interface BackendsOptions {
  /** OpenAI-compatible endpoint for API-key sessions without a base_url (API_URL); default OpenAI's. */
  readonly apiUrl?: string | undefined;
  /** ChatGPT-web reverse proxy for access-token sessions without a base_url (CHATGPT_BASE_URL). */
  readonly chatgptBaseUrl?: string | undefined;
  /** Model for sessions that name none (CHATGPT_MODEL); default: each backend's own. */
  readonly model?: string | undefined;
  /**
   * The total deadline of one upstream attempt, from sending the request to
   * the end of the whole reply, however steadily it streams (default 60 s).
   * Past it the connection is closed and the request fails with Upstream
   * "the upstream timed out after N s"; a timed-out attempt is not retried.
   */
  readonly requestTimeoutMs?: number | undefined;
  /** Retries of a request on 429, 5xx and failed connections, with backoff and Retry-After (default 2). */
  readonly maxRetries?: number | undefined;
  /**
   * The environment to read HTTP_PROXY / HTTPS_PROXY / NO_PROXY from (either
   * case); the app passes `process.env`. Default: no proxy.
   */
  readonly proxyEnv?: ProxyEnv | undefined;
  readonly logger?: Logger | undefined;
  /** The wait between retries; tests replace it to observe backoff without waiting. */
  readonly sleep?: Sleep | undefined;
  /** Told how each upstream request ended, how long it took, and about retries, for metrics (default: none). */
  readonly observer?: UpstreamObserver | undefined;
}

/** Both backends over one shared connection pool. */
export interface Backends {
  /**
   * Picks the backend for a session by its kind: "api-key" → OpenAI-compatible,
   * "access-token" → ChatGPT web. Hand it to `SessionPool` as `backends`.
   *
   * @throws InvalidArgument for an access-token session when neither its
   *   config nor the server names a ChatGPT-web base URL.
   */
  readonly resolve: BackendResolver;
  readonly openai: OpenAIBackend;
  readonly chatgptWeb: ChatGPTWebBackend;
  /** Closes every upstream connection (requests still in flight fail). Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds both backends and the one undici dispatcher they share (keep-alive
 * pools per upstream, proxy routing). Build it once at start.
 *
 * @throws ConfigError for a proxy variable that is not an http(s) URL;
 *   TypeError for an `apiUrl` that is not one; RangeError for bad numbers.
 */
export function createBackends(options: BackendsOptions = {}): Backends {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new RangeError(`requestTimeoutMs must be a positive number, got ${requestTimeoutMs}`);
  }
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError(`maxRetries must be a whole number >= 0, got ${maxRetries}`);
  const logger = options.logger ?? silentLogger;
  const apiUrl = nonEmpty(options.apiUrl);
  const chatgptBaseUrl = nonEmpty(options.chatgptBaseUrl);
  const proxy = readProxySettings(options.proxyEnv ?? {});
  if (usesProxy(proxy)) {
    logger.info(
      {
        httpProxy: proxy.httpProxy === undefined ? undefined : describeProxy(proxy.httpProxy),
        httpsProxy: proxy.httpsProxy === undefined ? undefined : describeProxy(proxy.httpsProxy),
        noProxy: proxy.noProxy,
      },
      "upstream traffic goes through a proxy",
    );
  }
  const dispatcher: Dispatcher = createUpstreamDispatcher({ proxy });
  const common = {
    requestTimeoutMs,
    maxRetries,
    logger,
    model: nonEmpty(options.model),
    sleep: options.sleep,
    observer: options.observer,
  };
  const openai = new OpenAIBackend({
    ...common,
    apiUrl,
    dispatcher,
  });
  const chatgptWeb = new ChatGPTWebBackend({ ...common, baseUrl: chatgptBaseUrl, dispatcher });
  const hasServerBaseUrl = chatgptBaseUrl !== undefined;
  const byKind = new Map<BackendKind, Backend>([
    [API_KEY_KIND, openai],
    [ACCESS_TOKEN_KIND, chatgptWeb],
  ]);

  let closed: Promise<void> | undefined;
  return {
    resolve(config) {
      const backend = byKind.get(config.kind);
      if (backend === undefined) throw ChatbotError.invalidArgument(`no backend serves ${config.kind} sessions`);
      if (backend === chatgptWeb && config.baseUrl === undefined && !hasServerBaseUrl) chatgptWeb.endpoint(config); // throws InvalidArgument
      return backend;
    },
    openai,
    chatgptWeb,
    close() {
      closed ??= dispatcher.destroy();
      return closed;
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
