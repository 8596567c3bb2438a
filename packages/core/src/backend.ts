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

/** What a backend hands back when its reply stream ends. */
export interface AskResult {
  /** The conversation state to pass to the next turn (stateful backends). */
  readonly conversation?: ConversationState | null;
}

/**
 * What a backend implements to be pooled. A reply streams as text deltas;
 * the whole reply is their concatenation. The generator's return value carries
 * state for the next turn.
 *
 * Errors must be {@link ChatbotError}s (Upstream, with a safe message that never
 * contains the credential); anything else is reported as Internal.
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
  /** Streams the reply to one prompt. */
  ask(request: AskRequest): AsyncGenerator<string, AskResult | void, undefined>;
}

/** Picks the backend for a session's config (by version, base URL…). */
export type BackendResolver = (config: SessionConfig) => Backend;

/** Runs a backend's reply stream to its end: the whole text and the result. */
export async function collectReply(
  stream: AsyncGenerator<string, AskResult | void, undefined>,
): Promise<{ text: string; result: AskResult }> {
  let text = "";
  for (;;) {
    const step = await stream.next();
    if (step.done) return { text, result: step.value ?? {} };
    text += step.value;
  }
}
