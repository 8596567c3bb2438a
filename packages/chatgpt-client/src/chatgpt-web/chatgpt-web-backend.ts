import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import {
  type AskPart,
  type AskRequest,
  type Backend,
  ChatbotError,
  maskSecret,
  type SessionConfig,
} from "@chatgptchatbot/core";
import type { Dispatcher } from "undici";
import { EventStreamReply } from "../http/event-stream-reply.js";
import { postUpstream } from "../http/post-upstream.js";
import { PartBatch } from "../part-batch.js";
import { replyEndedEarly } from "../reply-ended-early.js";
import { safeReason } from "../safe-error.js";
import { runUpstreamAttempts, type UpstreamCall } from "../upstream-attempts.js";
import type { UpstreamOptions } from "../upstream-options.js";
import { conversationUrl } from "./endpoint.js";
import {
  type ConversationPointer,
  errorDetail,
  nextActionBody,
  readConversationEvent,
  readConversationState,
} from "./protocol.js";

/** The model when neither the session nor the server names one: what the web client itself sends. */
export const DEFAULT_CHATGPT_WEB_MODEL = "auto";

export interface ChatGPTWebBackendOptions extends UpstreamOptions {
  /** The shared dispatcher (keep-alive pools, proxy routing). */
  readonly dispatcher: Dispatcher;
  /** The server's reverse proxy (CHATGPT_BASE_URL); sessions without their own base_url need it. */
  readonly baseUrl?: string | undefined;
}

/** A JSON body where an event stream belongs carries an error, whatever its status. */
const isNotJson = (headers: IncomingHttpHeaders): boolean =>
  !String(headers["content-type"] ?? "").includes("application/json");

/**
 * The access-token backend ("version 1"): the ChatGPT web conversation
 * protocol through a reverse proxy the operator or the session names. The
 * server keeps the conversation: each turn sends only the new prompt with the
 * conversation id and parent message id of the previous turn (returned as
 * the conversation state), and streams the growing reply. The deadline,
 * retries and failure mapping are the attempt runner's ({@link runUpstreamAttempts}).
 */
export class ChatGPTWebBackend implements Backend {
  readonly initialPrompt = "ask" as const;
  readonly #dispatcher: Dispatcher;
  readonly #baseUrl: string | undefined;
  readonly #model: string;
  readonly #settings: UpstreamOptions;

  constructor(options: ChatGPTWebBackendOptions) {
    this.#dispatcher = options.dispatcher;
    this.#baseUrl = options.baseUrl;
    this.#model = options.model ?? DEFAULT_CHATGPT_WEB_MODEL;
    this.#settings = options;
  }

  /**
   * The conversation endpoint for a session, `{base}/conversation`.
   *
   * @throws InvalidArgument when neither the session nor the server names a
   *   base URL: a user's token is never sent to a host they did not name.
   */
  endpoint(config: SessionConfig): string {
    const base = config.baseUrl ?? this.#baseUrl;
    if (base === undefined) {
      throw ChatbotError.invalidArgument(
        "an access-token session (version 1) needs a base_url: the URL of a ChatGPT-web reverse proxy " +
          "(the server has no CHATGPT_BASE_URL, and a token is never sent to a host you did not name)",
      );
    }
    return conversationUrl(base);
  }

  ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
    const { credential, signal } = request;
    return runUpstreamAttempts({ credential, signal, settings: this.#settings, prepare: () => this.#prepare(request) });
  }

  /** The request for one ask: the next action in the conversation; throws InvalidArgument without a base URL. */
  #prepare(request: AskRequest): UpstreamCall<Dispatcher.ResponseData> {
    const { config, credential } = request;
    const url = this.endpoint(config);
    const model = config.model ?? this.#model;
    const previous = readConversationState(request.conversation);
    const body = JSON.stringify(
      nextActionBody({
        prompt: request.prompt,
        model,
        messageId: randomUUID(),
        conversation: previous,
        rootParentId: randomUUID(),
      }),
    );
    return {
      backend: "chatgpt-web",
      logFields: {
        backend: "chatgpt-web",
        upstream: new URL(url).origin,
        model,
        credentialMasked: maskSecret(credential),
      },
      open: (signal) =>
        postUpstream({
          dispatcher: this.#dispatcher,
          url,
          body,
          credential,
          signal,
          accept: "text/event-stream",
          isReply: isNotJson,
          reasonOf: errorDetail,
        }),
      read: (response, readToEnd) => this.#read(response, { credential, previous, readToEnd }),
    };
  }

  /**
   * The parts of a conversation reply: each event carries the whole text so
   * far, so what is new goes out as a text part; the finish part carries the
   * conversation state of the next turn.
   */
  async *#read(
    response: Dispatcher.ResponseData,
    {
      credential,
      previous,
      readToEnd,
    }: { credential: string; previous: ConversationPointer | undefined; readToEnd: () => void },
  ): AsyncGenerator<AskPart, void, undefined> {
    // Failures of a reply that came with a 2xx carry its status: the upstream answered, badly (HTTP 502, not 503).
    const status = response.statusCode;
    let sent = "";
    let messageId: string | undefined;
    let conversationId = previous?.conversationId;
    let finished = false;
    let malformed = 0;
    const reply = new EventStreamReply(response.body);
    for await (const events of reply) {
      // A chunk's events are read at once and leave as one text part (see PartBatch); what came before an
      // error event in the same chunk still goes out before the error.
      const batch = new PartBatch();
      let failure: ChatbotError | undefined;
      for (const event of events) {
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          malformed++;
          continue;
        }
        const update = readConversationEvent(data);
        if (update === undefined) continue;
        if (update.kind === "error") {
          failure = ChatbotError.upstream(`the upstream reported an error: ${safeReason(update.reason, credential)}`, {
            status,
          });
          break;
        }
        if (update.role !== "assistant") continue;
        messageId = update.messageId;
        conversationId = update.conversationId ?? conversationId;
        // Each event carries the whole text so far: pass on what is new.
        if (update.text.length > sent.length && update.text.startsWith(sent)) {
          batch.add("text", update.text.slice(sent.length));
          sent = update.text;
        }
        if (update.finished) finished = true;
      }
      for (const part of batch.take()) yield part;
      if (failure !== undefined) throw failure;
    }
    // Read to its end, or drained after [DONE]: the connection goes back to the pool.
    readToEnd();
    const done = reply.done;
    if (messageId === undefined || conversationId === undefined) {
      if (malformed > 0) {
        const events = `${malformed} event${malformed === 1 ? " was" : "s were"}`;
        throw ChatbotError.upstream(`the upstream sent a malformed reply (${events} not JSON)`, { status });
      }
      if (!done) throw replyEndedEarly(status);
      throw ChatbotError.upstream("the upstream's reply held no assistant message", { status });
    }
    // Complete means `[DONE]` or the assistant message's `finished_successfully` / `end_turn`: a stream that
    // closes cleanly with neither was cut short (a proxy, a crash), and its text must not go into the history.
    if (!done && !finished) throw replyEndedEarly(status);
    yield { type: "finish", conversation: { conversationId, parentMessageId: messageId } };
  }
}
