/**
 * @chatgptchatbot/core: the chatbot session domain, free of transports and
 * vendor SDKs. Start with {@link SessionPool}; implement {@link Backend} to
 * plug in a model service; catch {@link ChatbotError}.
 */

export type {
  AskFinish,
  AskPart,
  AskRequest,
  AskResult,
  AskUsage,
  Backend,
  BackendResolver,
  ChatMessage,
  ConversationState,
} from "./backend.js";
export { collectReply, resultOf, unfinishedReply } from "./backend.js";
export type { BackendKind, BackendKindSpec, CooldownOptions } from "./backend-kinds.js";
export {
  ACCESS_TOKEN_KIND,
  API_KEY_KIND,
  BackendKindRegistry,
  BUILTIN_BACKEND_KINDS,
  cooldownFor,
} from "./backend-kinds.js";
export type { ChatStreamPart, SegmentOptions } from "./chat-stream.js";
export { clientIdentifier, QUOTED_VALUE_CHARS, quoteClientValue } from "./client-value.js";
export { ConfigError } from "./config-error.js";
export { Cooldown } from "./cooldown.js";
export type {
  Coordinator,
  CredentialGrant,
  CredentialRequest,
  SlotRequest,
  SlotReservation,
  TurnLease,
  TurnRequest,
} from "./coordinator.js";
export { credentialProblem, MAX_CREDENTIAL_CHARS } from "./credential.js";
export type { ChatbotErrorOptions } from "./errors.js";
export { ChatbotError, ErrorCode, isAbortError, MAX_ERROR_MESSAGE_CHARS } from "./errors.js";
export type { HistoryEntry } from "./history.js";
export { fitHistory } from "./history.js";
export { jsonTooDeep, MAX_JSON_DEPTH } from "./json-depth.js";
export type { Logger } from "./logger.js";
export { shortId, silentLogger } from "./logger.js";
export { stripMarkdown } from "./markdown-text.js";
export { maskSecret, redactSecrets } from "./mask.js";
export { MemoryCoordinator } from "./memory-coordinator.js";
export type { PoolObserver } from "./pool-observer.js";
export { checkPromptLength, DEFAULT_MAX_INITIAL_PROMPT_CHARS, DEFAULT_MAX_PROMPT_CHARS } from "./prompt-limits.js";
export { filterReply, filterSegment } from "./reply-filter.js";
export type { SegmenterOptions } from "./segmenter.js";
export {
  DEFAULT_FIRST_SEGMENT_MIN_LENGTH,
  DEFAULT_MAX_SEGMENT_LENGTH,
  MIN_MAX_SEGMENT_LENGTH,
  Segmenter,
  segmentText,
} from "./segmenter.js";
export type { SessionConfig, SessionConfigDefaults, SessionVersion } from "./session-config.js";
export { DEFAULT_MAX_TOKENS, parseSessionConfig, SUPPORTED_VERSIONS } from "./session-config.js";
export { checkSessionId, isPlausibleSessionId, MAX_SESSION_ID_CHARS } from "./session-id.js";
export type { ChatInput, CreateSessionInput, SessionInfo, SessionPoolOptions, SweepReport } from "./session-pool.js";
export {
  DEFAULT_ACCESS_TOKEN_COOLDOWN_MS,
  DEFAULT_API_KEY_COOLDOWN_MS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_RENEW_INTERVAL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  SessionPool,
} from "./session-pool.js";
export type { RenewWrite, SessionRecord, SessionStore, TurnWrite, WriteOutcome } from "./session-store.js";
export { MemorySessionStore } from "./session-store.js";
export { textWidth } from "./text-width.js";
export type { EncodingName, TokenCounter } from "./token-counter.js";
export {
  COUNT_PIECE_CHARS,
  EXACT_COUNT_CHARS,
  encodingForModel,
  loadTokenCounter,
  MESSAGE_OVERHEAD_TOKENS,
} from "./token-counter.js";
