import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AbortTracker } from "./abort-tracker.js";
import { chunkText, chunkTokens } from "./chunk-text.js";
import { sendEventStream } from "./event-stream.js";
import { type Fault, FaultQueue } from "./fault.js";
import { startLocalServer } from "./local-server.js";
import { bearerToken, type RecordedRequest, recordRequest } from "./recorded-request.js";
import { formatSSE, SSE_DONE } from "./sse.js";

export interface FakeChatGPTWebOptions {
  /** Reply text for a request; default: `echo: <prompt>`. */
  reply?: (request: RecordedRequest) => string;
  /** Delay between SSE events (ms), default 0. */
  chunkDelayMs?: number;
  /**
   * How the reply grows from one event to the next: `"words"` (default: a word at a time) or
   * `"tokens"` (1–4 characters at a time, like the real service, see `chunkTokens`).
   */
  pieces?: "words" | "tokens";
}

export interface ConversationMessage {
  id: string;
  parentId: string;
  role: string;
  text: string;
}

export interface FakeChatGPTWeb {
  /** Base URL of the reverse proxy, e.g. "http://127.0.0.1:PORT/backend-api"; the client POSTs `${url}/conversation`. */
  url: string;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  /** Every `POST /backend-api/conversation`, in order (including the ones a fault answered). */
  requests: RecordedRequest[];
  /** Conversations by id, each message with its parent, in order. */
  conversations: Map<string, { messages: ConversationMessage[] }>;
  /** Queues faults: each upcoming conversation request consumes the next one (FIFO). */
  enqueueFault(...faults: Fault[]): void;
  readonly abortedRequests: number;
  waitForAbort(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const defaultDetails: Record<number, string> = {
  401: "Your authentication token has expired. Please try signing in again.",
  403: "Forbidden",
  404: "Conversation not found",
  429: "Too many requests in 1 hour. Try again later.",
  500: "Something went wrong, please try reloading the conversation.",
};

function sendDetail(
  res: ServerResponse,
  { status, detail, retryAfter }: { status: number; detail: string; retryAfter?: number },
): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(JSON.stringify({ detail }));
}

interface NextAction {
  messageId: string;
  prompt: string;
  conversationId: string | undefined;
  parentMessageId: string;
  model: string;
}

/** The `action: "next"` body, or the detail of a 400 saying why it is invalid. */
function parseNextAction(body: unknown): NextAction | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "Request body must be a JSON object";
  const record = body as Record<string, unknown>;
  if (record.action !== "next") return `Unsupported action: ${JSON.stringify(record.action)}`;
  const message = Array.isArray(record.messages)
    ? (record.messages.at(-1) as Record<string, unknown> | undefined)
    : undefined;
  if (typeof message !== "object" || message === null) return "messages must hold the user message";
  if (typeof message.id !== "string" || message.id === "") return "The message needs an id";
  const content = message.content as { content_type?: unknown; parts?: unknown } | undefined;
  if (
    content?.content_type !== "text" ||
    !Array.isArray(content.parts) ||
    !content.parts.every((part) => typeof part === "string")
  ) {
    return "The message content must be {content_type: 'text', parts: string[]}";
  }
  if (typeof record.parent_message_id !== "string" || record.parent_message_id === "")
    return "parent_message_id is required";
  const conversationId = record.conversation_id;
  if (conversationId !== undefined && conversationId !== null && typeof conversationId !== "string") {
    return "conversation_id must be a string";
  }
  return {
    messageId: message.id,
    prompt: (content.parts as string[]).join("\n"),
    conversationId: conversationId ?? undefined,
    parentMessageId: record.parent_message_id,
    model: typeof record.model === "string" ? record.model : "text-davinci-002-render-sha",
  };
}

function defaultReply(request: RecordedRequest): string {
  const parsed = parseNextAction(request.body);
  return `echo: ${typeof parsed === "string" ? "" : parsed.prompt}`;
}

/**
 * Starts a fake ChatGPT-web reverse proxy on 127.0.0.1 (the backend revChatGPT V1 and
 * similar clients talk to): `POST /backend-api/conversation` with `Authorization: Bearer
 * <access token>` and an `action: "next"` body, answered with an event stream whose
 * `message.content.parts[0]` grows to the full reply (cumulative, like the real service),
 * the last event `finished_successfully`, then `[DONE]`.
 *
 * Errors are `{"detail": "..."}`. A follow-up must name an existing conversation (else
 * 404) and use its last message id as `parent_message_id` (else 400). Faults as in
 * `startFakeOpenAI`; `malformed` sends an event stream whose first event is broken JSON;
 * `error-event` half the reply's events, then `{"message": null, "error": "..."}` and `[DONE]`;
 * `unterminated` the in-progress events only (no finished message, no `[DONE]`), then a clean end.
 * A conversation records the turn once its reply went out whole (a faulted, cut or abandoned
 * reply is not kept, so the next turn continues from the last complete one).
 */
export async function startFakeChatGPTWeb(options: FakeChatGPTWebOptions = {}): Promise<FakeChatGPTWeb> {
  const { reply = defaultReply, chunkDelayMs = 0, pieces = "words" } = options;
  const split = pieces === "tokens" ? chunkTokens : chunkText;
  const requests: RecordedRequest[] = [];
  const conversations = new Map<string, { messages: ConversationMessage[] }>();
  const faults = new FaultQueue();
  const tracker = new AbortTracker();

  async function conversation(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await recordRequest(req);
    requests.push(request);
    const fault = faults.next();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "status") {
      sendDetail(res, {
        status: fault.status,
        detail: fault.message ?? defaultDetails[fault.status] ?? `Request failed with status ${fault.status}`,
        ...(fault.retryAfter === undefined ? {} : { retryAfter: fault.retryAfter }),
      });
      return;
    }
    if (fault?.kind === "malformed") {
      await sendEventStream({ res, tracker, events: ['data: {"message": {"id": "\n\n', formatSSE(SSE_DONE)] });
      return;
    }
    if (bearerToken(request.headers) === undefined) {
      sendDetail(res, { status: 401, detail: "Unauthorized" });
      return;
    }
    const action = parseNextAction(request.body);
    if (typeof action === "string") {
      sendDetail(res, { status: 400, detail: action });
      return;
    }
    let conversationId = action.conversationId;
    let thread: { messages: ConversationMessage[] };
    if (conversationId === undefined) {
      conversationId = randomUUID();
      thread = { messages: [] };
    } else {
      const existing = conversations.get(conversationId);
      if (existing === undefined) {
        sendDetail(res, { status: 404, detail: "Conversation not found" });
        return;
      }
      const last = existing.messages.at(-1);
      if (last?.id !== action.parentMessageId) {
        sendDetail(res, {
          status: 400,
          detail: `parent_message_id ${action.parentMessageId} is not the latest message (${last?.id}) of conversation ${conversationId}`,
        });
        return;
      }
      thread = existing;
    }

    const text = reply(request);
    const replyId = randomUUID();

    const createTime = Date.now() / 1000;
    const event = (soFar: string, finished: boolean) =>
      formatSSE({
        message: {
          id: replyId,
          author: { role: "assistant", name: null, metadata: {} },
          create_time: createTime,
          update_time: null,
          content: { content_type: "text", parts: [soFar] },
          status: finished ? "finished_successfully" : "in_progress",
          end_turn: finished ? true : null,
          weight: 1,
          metadata: {
            message_type: "next",
            model_slug: action.model,
            parent_id: action.messageId,
            ...(finished ? { finish_details: { type: "stop", stop_tokens: [100260] }, is_complete: true } : {}),
          },
          recipient: "all",
        },
        conversation_id: conversationId,
        error: null,
      });
    const chunks = split(text);
    const events = chunks.map((_, index) => event(chunks.slice(0, index + 1).join(""), false));
    if (fault?.kind === "error-event") {
      // Part of the reply, then the service's in-stream error (`error` set, no message), then [DONE].
      events.splice(Math.max(1, Math.ceil(events.length / 2)));
      const detail = fault.message ?? "Something went wrong while generating the response. Please try again.";
      events.push(formatSSE({ message: null, conversation_id: conversationId, error: detail }), formatSSE(SSE_DONE));
    } else if (fault?.kind !== "unterminated") {
      // `unterminated`: the in-progress events only, then a clean close.
      events.push(event(text, true), formatSSE(SSE_DONE));
    }
    await sendEventStream({
      res,
      tracker,
      events,
      intervalMs: fault?.kind === "trickle" ? fault.intervalMs : chunkDelayMs,
      cut: fault?.kind === "cut",
    });
    // The turn is kept only when its reply went out whole: a generation that failed or was cut (or that the
    // client left) is dropped, so the client's next turn continues from its last complete reply.
    const broken = fault?.kind === "error-event" || fault?.kind === "unterminated" || fault?.kind === "cut";
    if (broken || !res.writableEnded) return;
    thread.messages.push(
      { id: action.messageId, parentId: action.parentMessageId, role: "user", text: action.prompt },
      { id: replyId, parentId: action.messageId, role: "assistant", text },
    );
    conversations.set(conversationId, thread);
  }

  const server = await startLocalServer({
    async handler(req, res) {
      tracker.watch(res);
      const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
      if (pathname === "/backend-api/conversation" && req.method === "POST") {
        await conversation(req, res);
        return;
      }
      req.resume();
      sendDetail(res, { status: 404, detail: "Not Found" });
    },
  });

  return {
    url: `${server.origin}/backend-api`,
    origin: server.origin,
    requests,
    conversations,
    enqueueFault: (...list) => faults.enqueue(...list),
    get abortedRequests() {
      return tracker.count;
    },
    waitForAbort: (timeoutMs) => tracker.wait(timeoutMs),
    async close() {
      tracker.close();
      await server.close();
    },
  };
}
