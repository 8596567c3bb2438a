/**
 * @chatgptchatbot/core: the chatbot session domain, free of transports and
 * vendor SDKs. Start with {@link SessionPool}; implement {@link Backend} to
 * plug in a model service; catch {@link ChatbotError}.
 */
export { SessionPool } from "./session-pool.js";
export type { SessionPoolOptions, CreateSessionInput, ChatInput, SessionInfo, SweepReport } from "./session-pool.js";
export type { ChatStreamPart, SegmentOptions } from "./chat-stream.js";
export type { PoolObserver } from "./pool-observer.js";
export {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_RENEW_INTERVAL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_ACCESS_TOKEN_COOLDOWN_MS,
  DEFAULT_API_KEY_COOLDOWN_MS,
} from "./session-pool.js";

export { collectReply, resultOf, unfinishedReply } from "./backend.js";
export type {
  Backend,
  BackendResolver,
  AskRequest,
  AskPart,
  AskFinish,
  AskResult,
  AskUsage,
  ChatMessage,
  ConversationState,
} from "./backend.js";

export { ChatbotError, ErrorCode, isAbortError, MAX_ERROR_MESSAGE_CHARS } from "./errors.js";
export { quoteClientValue, clientIdentifier, QUOTED_VALUE_CHARS } from "./client-value.js";
export { jsonTooDeep, MAX_JSON_DEPTH } from "./json-depth.js";
export { credentialProblem, MAX_CREDENTIAL_CHARS } from "./credential.js";
export type { ChatbotErrorOptions } from "./errors.js";

export { parseSessionConfig, SUPPORTED_VERSIONS, DEFAULT_MAX_TOKENS } from "./session-config.js";
export type { SessionConfig, SessionConfigDefaults, SessionVersion } from "./session-config.js";

export { checkPromptLength, DEFAULT_MAX_PROMPT_CHARS, DEFAULT_MAX_INITIAL_PROMPT_CHARS } from "./prompt-limits.js";
export { MemorySessionStore } from "./session-store.js";
export type { SessionRecord, SessionStore, TurnWrite, RenewWrite, WriteOutcome } from "./session-store.js";

export { MemoryCoordinator } from "./memory-coordinator.js";
export type {
  Coordinator,
  CredentialGrant,
  CredentialRequest,
  SlotRequest,
  SlotReservation,
  TurnLease,
  TurnRequest,
} from "./coordinator.js";

export {
  ACCESS_TOKEN_KIND,
  API_KEY_KIND,
  BackendKindRegistry,
  BUILTIN_BACKEND_KINDS,
  cooldownFor,
} from "./backend-kinds.js";
export type { BackendKind, BackendKindSpec, CooldownOptions } from "./backend-kinds.js";

export { Cooldown } from "./cooldown.js";
export { filterReply, filterSegment } from "./reply-filter.js";
export { stripMarkdown } from "./markdown-text.js";
export {
  Segmenter,
  segmentText,
  DEFAULT_FIRST_SEGMENT_MIN_LENGTH,
  DEFAULT_MAX_SEGMENT_LENGTH,
  MIN_MAX_SEGMENT_LENGTH,
} from "./segmenter.js";
export type { SegmenterOptions } from "./segmenter.js";
export { textWidth } from "./text-width.js";
export { fitHistory } from "./history.js";
export type { HistoryEntry } from "./history.js";
export { loadTokenCounter, encodingForModel, MESSAGE_OVERHEAD_TOKENS, EXACT_COUNT_CHARS, COUNT_PIECE_CHARS } from "./token-counter.js";
export type { TokenCounter, EncodingName } from "./token-counter.js";
export { maskSecret, redactSecrets } from "./mask.js";
export { MAX_SESSION_ID_CHARS, checkSessionId, isPlausibleSessionId } from "./session-id.js";
export { silentLogger, shortId } from "./logger.js";
export type { Logger } from "./logger.js";
export { ConfigError } from "./config-error.js";
