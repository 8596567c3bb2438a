/**
 * The one error family of ChatGPTChatbot. Every failure that reaches a
 * transport is a {@link ChatbotError} with a stable {@link ErrorCode}. Core
 * knows no transport: each transport app translates codes to its own statuses
 * through one table of its own (grpc-server: Connect codes; http-server: HTTP
 * statuses), and nowhere else.
 */
import { clientIdentifier } from "./client-value.js";

/** Stable error codes. Their string values are part of the public API. */
export const ErrorCode = {
  /** The request or the session config is malformed. */
  InvalidArgument: "invalid_argument",
  /** The session limit is reached and no idle session could be evicted. */
  TooManySessions: "too_many_sessions",
  /** No session has that id (never created, deleted, or evicted). */
  SessionNotFound: "session_not_found",
  /** The session's credential is cooling down; retry after `retryAfterMs`. */
  Cooldown: "cooldown",
  /** The backend (the upstream model service) failed. */
  Upstream: "upstream",
  /** The server cannot serve now: shutting down, or not configured yet (no credential). */
  Unavailable: "unavailable",
  /** The caller gave up (client cancel or deadline) before the reply came. */
  Aborted: "aborted",
  /** A bug: anything not foreseen. Its message is generic; the cause is kept for logs. */
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ChatbotErrorOptions {
  readonly code: ErrorCode;
  /** A message safe to show a client: never a credential, never a stack. */
  readonly message: string;
  readonly cause?: unknown;
  /** For Cooldown (and upstream rate limits): how long to wait, in ms. */
  readonly retryAfterMs?: number;
  /** For Upstream: the upstream's HTTP status, when it answered one. */
  readonly upstreamStatus?: number;
}

/**
 * Longest message an error carries to a client, in characters. It travels in
 * gRPC metadata (`grpc-message`, percent-encoded: up to 3 bytes a character;
 * clients refuse metadata over 8 KiB by default), and in HTTP bodies and logs.
 * Client values in messages are quoted short (see quoteClientValue); this cap
 * is the guard behind that rule.
 */
export const MAX_ERROR_MESSAGE_CHARS = 1_024;

/** The one error class; build it through the named constructors below. */
export class ChatbotError extends Error {
  override readonly name = "ChatbotError";
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor({ code, message, cause, retryAfterMs, upstreamStatus }: ChatbotErrorOptions) {
    super(boundedMessage(message), cause === undefined ? undefined : { cause });
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.upstreamStatus = upstreamStatus;
  }

  /** Whether retrying the same request later may succeed. */
  get isRetryable(): boolean {
    return (
      this.code === ErrorCode.Cooldown ||
      this.code === ErrorCode.Upstream ||
      this.code === ErrorCode.TooManySessions ||
      this.code === ErrorCode.Unavailable
    );
  }

  /** Seconds to wait, rounded up, when a retry-after applies. */
  get retryAfterSeconds(): number | undefined {
    return this.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }

  static invalidArgument(message: string, cause?: unknown): ChatbotError {
    return new ChatbotError({ code: ErrorCode.InvalidArgument, message, cause });
  }

  static tooManySessions(max: number): ChatbotError {
    return new ChatbotError({
      code: ErrorCode.TooManySessions,
      message: `too many sessions: the limit of ${max} is reached; delete a session or try again later`,
    });
  }

  static sessionNotFound(sessionId: string): ChatbotError {
    return new ChatbotError({
      code: ErrorCode.SessionNotFound,
      message: `session not found: ${clientIdentifier(sessionId)}`,
    });
  }

  static cooldown(retryAfterMs: number): ChatbotError {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new ChatbotError({
      code: ErrorCode.Cooldown,
      message: `cooling down: try again in ${seconds} s`,
      retryAfterMs,
    });
  }

  static upstream(
    message: string,
    { cause, status, retryAfterMs }: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ): ChatbotError {
    return new ChatbotError({ code: ErrorCode.Upstream, message, cause, upstreamStatus: status, retryAfterMs });
  }

  static unavailable(message: string): ChatbotError {
    return new ChatbotError({ code: ErrorCode.Unavailable, message });
  }

  static aborted(message = "the request was cancelled", cause?: unknown): ChatbotError {
    return new ChatbotError({ code: ErrorCode.Aborted, message, cause });
  }

  /**
   * Turns anything caught into a ChatbotError: a ChatbotError as it is, an
   * AbortError as Aborted, anything else as Internal with a generic message
   * (the original kept as `cause` for logs, never shown to a client).
   */
  static from(error: unknown): ChatbotError {
    if (error instanceof ChatbotError) return error;
    if (isAbortError(error)) return ChatbotError.aborted(undefined, error);
    return new ChatbotError({ code: ErrorCode.Internal, message: "internal error", cause: error });
  }
}

function boundedMessage(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS ? message : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
}

/** True for the errors an aborted fetch / AbortSignal produces. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || (error as { code?: unknown }).code === "ABORT_ERR");
}
