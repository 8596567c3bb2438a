import { ChatbotError } from "./errors.js";
import type { SessionConfig } from "./session-config.js";

/** One message of a conversation, as sent to a chat-completions style API. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

/**
 * Backend-owned conversation state (for example the ChatGPT web protocol's
 * conversation and parent message ids). Plain JSON, so a session store can
 * persist it; core never looks inside.
 */
export type ConversationState = { readonly [key: string]: string | number | boolean | null };

/** Everything a backend needs to answer one prompt. */
export interface AskRequest {
  /** The user's new message. */
  readonly prompt: string;
  /**
   * The system prompt: the session's initial prompt for backends whose
   * `initialPrompt` is "system" (empty when none was given; the backend may
   * substitute its default persona). Empty for "ask" backends.
   */
  readonly systemPrompt: string;
  /**
   * Earlier turns, oldest first, already trimmed to the session's token
   * budget. Valid only until the reply stream ends (the pool appends to it
   * afterwards): copy what you keep. Entries may carry extra fields; send only
   * `role` and `content` upstream.
   */
  readonly history: readonly ChatMessage[];
  /** The backend's state from the previous turn, or null for a new conversation. */
  readonly conversation: ConversationState | null;
  /** The credential chosen for this request (API key or access token). */
  readonly credential: string;
  /** The session's configuration (model, base URL, temperature…). */
  readonly config: SessionConfig;
  /** Aborted when the caller gives up; the backend must cancel the upstream request. */
  readonly signal: AbortSignal;
}

/** Token counts an upstream reported for one reply, when it did. */
export interface AskUsage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Of the completion tokens, how many were reasoning (thinking models). */
  readonly reasoningTokens?: number;
}

/**
 * One piece of a backend's reply stream:
 * - `text`: a delta of the reply; the whole reply is their concatenation.
 * - `reasoning`: a delta of a thinking model's reasoning. It is never spoken,
 *   never part of the reply, never stored in the history, never sent upstream
 *   again; the pool drops it (backends may log it at debug level).
 * - `finish`: the last part, sent only when the reply is complete (the
 *   upstream said so: `[DONE]`, a finish reason, an end of turn). It carries
 *   what the next turn needs. A stream that ends without it did not complete.
 */
export type AskPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "reasoning"; readonly text: string }
  | {
      readonly type: "finish";
      /** The conversation state for the next turn (stateful backends); absent: keep the previous one. */
      readonly conversation?: ConversationState | null;
      /** The upstream's reason (stop, length, content_filter…), when it gave one. */
      readonly finishReason?: string;
      readonly usage?: AskUsage;
    };

/** The `finish` part of a reply stream. */
export type AskFinish = Extract<AskPart, { type: "finish" }>;

/** What a whole reply stream amounts to: see {@link collectReply}. */
export interface AskResult {
  /** The conversation state to pass to the next turn (stateful backends). */
  readonly conversation?: ConversationState | null;
  readonly finishReason?: string;
  readonly usage?: AskUsage;
}

/**
 * What a backend implements to be pooled. A reply streams as typed parts
 * ({@link AskPart}): text and reasoning deltas, then one `finish` that carries
 * the state for the next turn. (Parts, not a generator's return value: `for
 * await` would silently drop that.)
 *
 * Errors must be {@link ChatbotError}s (Upstream, with a safe message that never
 * contains the credential); anything else is reported as Internal. A consumer
 * that stops iterating early (`return()`) or aborts the request's signal must
 * make the backend cancel its upstream request.
 *
 * Reset is the pool's job: a backend keeps no per-session state of its own
 * (what it needs between turns it returns as `conversation`), so renewing a
 * session is the pool dropping its history and conversation state, and for
 * "ask" backends asking the initial prompt again.
 */
export interface Backend {
  /**
   * How a session's initial prompt is used:
   * - "system": it is the system prompt of every request; nothing is asked at
   *   creation and the initial response is empty.
   * - "ask": it is sent as the first message of each conversation (at creation
   *   and after every renew), and its reply is the initial response.
   */
  readonly initialPrompt: "system" | "ask";
  /**
   * For "system" backends: the system prompt the backend sends when a
   * session has no initial prompt, so the pool can count it in the budget.
   */
  readonly defaultSystemPrompt?: string;
  /** Streams the reply to one prompt: text and reasoning parts, then `finish` once it is complete. */
  ask(request: AskRequest): AsyncIterable<AskPart>;
}

/** Picks the backend for a session's config (by version, base URL…). */
export type BackendResolver = (config: SessionConfig) => Backend;

/**
 * Runs a backend's reply stream to its end: the whole text (reasoning
 * dropped) and what its `finish` part said.
 *
 * @throws whatever the stream throws; Upstream "the upstream reply ended
 *   early" when it ends without a `finish` part.
 */
export async function collectReply(parts: AsyncIterable<AskPart>): Promise<{ text: string; result: AskResult }> {
  let text = "";
  let result: AskResult | undefined;
  // Read to the end (the backend finishes on its own terms); nothing after `finish` counts.
  for await (const part of parts) {
    if (result !== undefined) continue;
    if (part.type === "text") text += part.text;
    else if (part.type === "finish") result = resultOf(part);
  }
  if (result === undefined) throw unfinishedReply();
  return { text, result };
}

/** What a `finish` part hands on to the next turn. */
export function resultOf({ conversation, finishReason, usage }: AskFinish): AskResult {
  return {
    ...(conversation === undefined ? {} : { conversation }),
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(usage === undefined ? {} : { usage }),
  };
}

/**
 * A reply stream that ended without its `finish` part: treated like a reply
 * the upstream cut short, so nothing of it is stored.
 */
export function unfinishedReply(): ChatbotError {
  return ChatbotError.upstream("the upstream reply ended early");
}
