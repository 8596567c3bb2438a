/**
 * @chatgptchatbot/chatgpt-client: the backends of ChatGPTChatbot. Start with
 * {@link createBackends} and hand its
 * `resolve` to core's `SessionPool`.
 */
export { createBackends, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS } from "./backends.js";
export type { Backends, BackendsOptions } from "./backends.js";

export { OpenAIBackend, DEFAULT_OPENAI_MODEL } from "./openai/openai-backend.js";
export { buildMessages } from "./openai/protocol.js";
export type { OpenAIBackendOptions } from "./openai/openai-backend.js";
export { DEFAULT_SYSTEM_PROMPT } from "./openai/default-persona.js";
export { ThinkTagSplitter } from "./openai/think-tags.js";
export type { ThinkPart } from "./openai/think-tags.js";
export { resolveOpenAIEndpoint, OPENAI_BASE_URL } from "./openai/endpoint.js";
export type { OpenAIEndpoint } from "./openai/endpoint.js";

export { ChatGPTWebBackend, DEFAULT_CHATGPT_WEB_MODEL } from "./chatgpt-web/chatgpt-web-backend.js";
export { conversationUrl } from "./chatgpt-web/endpoint.js";
export type { ChatGPTWebBackendOptions } from "./chatgpt-web/chatgpt-web-backend.js";
export { SSEDecoder, readServerSentEvents } from "@chatgptchatbot/sse";
export type { ServerSentEvent } from "@chatgptchatbot/sse";

export { createUpstreamDispatcher } from "./http/dispatcher.js";
export type { UpstreamDispatcherOptions } from "./http/dispatcher.js";
export { createUndiciFetch } from "./http/undici-fetch.js";
export type { FetchLike, UndiciFetchOptions } from "./http/undici-fetch.js";
export { readProxySettings, describeProxy } from "./http/proxy-settings.js";
export type { ProxyEnv, ProxySettings } from "./http/proxy-settings.js";
export { failureOutcome } from "./upstream-observer.js";
export type { UpstreamBackendName, UpstreamObserver, UpstreamOutcome } from "./upstream-observer.js";
export { withRetries, backoffDelayMs, parseRetryAfter, MAX_RETRY_AFTER_MS } from "./http/retry.js";
export type { RetryDecision, RetryOptions, Sleep } from "./http/retry.js";
