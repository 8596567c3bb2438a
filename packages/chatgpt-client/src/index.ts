/**
 * @chatgptchatbot/chatgpt-client: the backends of ChatGPTChatbot. Start with
 * {@link createBackends} and hand its
 * `resolve` to core's `SessionPool`.
 */

export type { ServerSentEvent } from "@chatgptchatbot/sse";
export { readServerSentEvents, SSEDecoder } from "@chatgptchatbot/sse";
export type { Backends, BackendsOptions } from "./backends.js";
export { createBackends, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS } from "./backends.js";
export type { ChatGPTWebBackendOptions } from "./chatgpt-web/chatgpt-web-backend.js";
export { ChatGPTWebBackend, DEFAULT_CHATGPT_WEB_MODEL } from "./chatgpt-web/chatgpt-web-backend.js";
export { conversationUrl } from "./chatgpt-web/endpoint.js";
export type { UpstreamDispatcherOptions } from "./http/dispatcher.js";
export { createUpstreamDispatcher } from "./http/dispatcher.js";
export type { ProxyEnv, ProxySettings } from "./http/proxy-settings.js";
export { describeProxy, readProxySettings } from "./http/proxy-settings.js";
export type { RetryDecision, RetryOptions, Sleep } from "./http/retry.js";
export { backoffDelayMs, MAX_RETRY_AFTER_MS, parseRetryAfter, withRetries } from "./http/retry.js";
export { DEFAULT_SYSTEM_PROMPT } from "./openai/default-persona.js";
export type { OpenAIEndpoint } from "./openai/endpoint.js";
export { OPENAI_BASE_URL, resolveOpenAIEndpoint } from "./openai/endpoint.js";
export type { OpenAIBackendOptions } from "./openai/openai-backend.js";
export { DEFAULT_OPENAI_MODEL, OpenAIBackend } from "./openai/openai-backend.js";
export { buildMessages } from "./openai/protocol.js";
export type { ThinkPart } from "./openai/think-tags.js";
export { ThinkTagSplitter } from "./openai/think-tags.js";
export type { UpstreamBackendName, UpstreamObserver, UpstreamOutcome } from "./upstream-observer.js";
export { failureOutcome } from "./upstream-observer.js";
