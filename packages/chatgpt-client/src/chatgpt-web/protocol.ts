/**
 * The ChatGPT web conversation protocol, as reverse proxies speak it:
 * `POST {base}/conversation` with an `action: "next"` body, answered by an
 * event stream whose message parts grow to the whole reply.
 */
import type { ConversationState } from "@chatgptchatbot/core";

/** Where a conversation stands between two turns. */
export interface ConversationPointer {
  readonly conversationId: string;
  /** The id of the last message (the assistant's reply); the next user message is its child. */
  readonly parentMessageId: string;
}

/** The pool's opaque state as a pointer, or undefined for a new conversation (or state this backend did not write). */
export function readConversationState(state: ConversationState | null): ConversationPointer | undefined {
  if (state === null) return undefined;
  const { conversationId, parentMessageId } = state;
  if (typeof conversationId !== "string" || conversationId === "") return undefined;
  if (typeof parentMessageId !== "string" || parentMessageId === "") return undefined;
  return { conversationId, parentMessageId };
}

export interface NextActionInput {
  readonly prompt: string;
  readonly model: string;
  /** The new user message's id. */
  readonly messageId: string;
  /** The conversation to continue, or undefined to start one. */
  readonly conversation: ConversationPointer | undefined;
  /** The parent id of the first message of a new conversation. */
  readonly rootParentId: string;
}

/** The request body of one turn. */
export function nextActionBody({ prompt, model, messageId, conversation, rootParentId }: NextActionInput): object {
  return {
    action: "next",
    messages: [
      {
        id: messageId,
        author: { role: "user" },
        content: { content_type: "text", parts: [prompt] },
        metadata: {},
      },
    ],
    ...(conversation === undefined ? {} : { conversation_id: conversation.conversationId }),
    parent_message_id: conversation?.parentMessageId ?? rootParentId,
    model,
    history_and_training_disabled: false,
  };
}

/** What one event of the reply stream says. */
export type ConversationEvent =
  | {
      readonly kind: "message";
      readonly messageId: string;
      readonly conversationId: string | undefined;
      readonly role: string;
      /** The whole text so far (`parts[0]`, cumulative). */
      readonly text: string;
      readonly finished: boolean;
    }
  | { readonly kind: "error"; readonly reason: string };

/**
 * Reads one parsed event: a message update, an error, or undefined for
 * anything else (titles, moderation, metadata, other formats).
 */
export function readConversationEvent(data: unknown): ConversationEvent | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const record = data as Record<string, unknown>;
  if (record.error !== undefined && record.error !== null && record.error !== "") {
    return { kind: "error", reason: describeDetail(record.error) };
  }
  const message = record.message as Record<string, unknown> | undefined | null;
  if (typeof message !== "object" || message === null || typeof message.id !== "string") return undefined;
  const author = message.author as { role?: unknown } | undefined;
  const content = message.content as { content_type?: unknown; parts?: unknown } | undefined;
  const parts = content?.parts;
  // Only text: thoughts, code and tool output are not part of the spoken reply.
  if (content?.content_type !== "text" || !Array.isArray(parts)) return undefined;
  const first: unknown = parts[0];
  return {
    kind: "message",
    messageId: message.id,
    conversationId: typeof record.conversation_id === "string" ? record.conversation_id : undefined,
    role: typeof author?.role === "string" ? author.role : "",
    text: typeof first === "string" ? first : "",
    finished: message.status === "finished_successfully" || message.end_turn === true,
  };
}

/**
 * The reason in an error body: `{"detail": "..."}`, `{"detail": {"message": ...}}`,
 * `{"error": {"message": ...}}`, or the text itself.
 */
export function errorDetail(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.trim() === "" ? "no reason given" : body;
  }
  if (typeof parsed === "object" && parsed !== null) {
    const record = parsed as Record<string, unknown>;
    if (record.detail !== undefined) return describeDetail(record.detail);
    if (record.error !== undefined) return describeDetail(record.error);
    if (typeof record.message === "string") return record.message;
  }
  return body;
}

function describeDetail(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (typeof detail === "object" && detail !== null) {
    const { message, code } = detail as { message?: unknown; code?: unknown };
    if (typeof message === "string") return typeof code === "string" ? `${message} (${code})` : message;
  }
  return JSON.stringify(detail);
}
