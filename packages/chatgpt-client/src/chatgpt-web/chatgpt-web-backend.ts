import { randomUUID } from "node:crypto";
import {
  type AskPart,
  type AskRequest,
  type Backend,
  ChatbotError,
  ErrorCode,
  type Logger,
  maskSecret,
  type SessionConfig,
  silentLogger,
} from "@chatgptchatbot/core";
import { type Dispatcher, request as undiciRequest } from "undici";
import { AttemptDeadline } from "../attempt-deadline.js";
import type { UpstreamOptions } from "../upstream-options.js";
import { bodyStream } from "../body-stream.js";
import { parseRetryAfter, type RetryDecision, type Sleep, withRetries } from "../retry.js";
import { replyEndedEarly } from "../reply-ended-early.js";
import { safeCause, safeReason } from "../safe-error.js";
import { transportFailure } from "../transport-failure.js";
import { errorDetail, nextActionBody, readConversationEvent, readConversationState } from "./protocol.js";
import { readServerSentEvents } from "../sse.js";
import { failureOutcome, UpstreamMeter, type UpstreamObserver } from "../upstream-observer.js";

/** The model when neither the session nor the server names one: what the web client itself sends. */
export const DEFAULT_CHATGPT_WEB_MODEL = "auto";

export interface ChatGPTWebBackendOptions extends UpstreamOptions {
  /** The shared dispatcher (keep-alive pools, proxy routing). */
  readonly dispatcher: Dispatcher;
  /** The server's reverse proxy (CHATGPT_BASE_URL); sessions without their own base_url need it. */
  readonly baseUrl?: string | undefined;
}

/** Error bodies are read up to this size; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The access-token backend ("version 1"): the ChatGPT web conversation
 * protocol through a reverse proxy the operator or the session names. The
 * server keeps the conversation: each turn sends only the new prompt with the
 * conversation id and parent message id of the previous turn (returned as
 * the conversation state), and streams the growing reply. Each attempt has
 * a total deadline ({@link AttemptDeadline}) up to the end of its reply.
 */
export class ChatGPTWebBackend implements Backend {
  readonly initialPrompt = "ask" as const;
  readonly #dispatcher: Dispatcher;
  readonly #baseUrl: string | undefined;
  readonly #model: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #log: Logger;
  readonly #sleep: Sleep | undefined;
  readonly #observer: UpstreamObserver | undefined;

  constructor(options: ChatGPTWebBackendOptions) {
    this.#dispatcher = options.dispatcher;
    this.#baseUrl = options.baseUrl;
    this.#model = options.model ?? DEFAULT_CHATGPT_WEB_MODEL;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#maxRetries = options.maxRetries;
    this.#log = options.logger ?? silentLogger;
    this.#sleep = options.sleep;
    this.#observer = options.observer;
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

  async *ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
    const { config, credential, signal } = request;
    if (signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
    const url = this.endpoint(config);
    const model = config.model ?? this.#model;
    const previous = readConversationState(request.conversation);
    const body = JSON.stringify(
      nextActionBody({ prompt: request.prompt, model, messageId: randomUUID(), conversation: previous, rootParentId: randomUUID() }),
    );
    const log = { backend: "chatgpt-web", upstream: new URL(url).origin, model, credentialMasked: maskSecret(credential) };
    // Each attempt's signal: the caller's, or the attempt's deadline (headers and the whole reply).
    const deadline = new AttemptDeadline({ signal, timeoutMs: this.#timeoutMs });
    const meter = new UpstreamMeter({ observer: this.#observer, backend: "chatgpt-web" });
    try {
      const response = await withRetries(() => this.#open({ url, body, credential, signal: deadline.start() }), {
        maxRetries: this.#maxRetries,
        signal,
        // A timed-out attempt is final: retrying would hold the session's queue for another full timeout.
        decide: (error) => (deadline.timedOut ? { retry: false } : this.#decide(error)),
        onRetry: ({ retry, delayMs, error }) => {
          const failure = this.#failure(error, request, deadline);
          meter.retry(failureOutcome({ failure, caught: error, timedOut: false }));
          this.#log.info({ ...log, retry, delayMs, err: failure.message }, "upstream request failed, retrying");
        },
        ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
      });

      // Failures of a reply that came with a 2xx carry its status: the upstream answered, badly (HTTP 502, not 503).
      const status = response.statusCode;
      let sent = "";
      let messageId: string | undefined;
      let conversationId = previous?.conversationId;
      let done = false;
      let finished = false;
      let malformed = 0;
      // Leaving the loop at [DONE] drains the rest (keep-alive); leaving it any other way closes the connection.
      try {
        for await (const event of readServerSentEvents(bodyStream(response.body))) {
          if (event.data === "[DONE]") {
            done = true;
            break;
          }
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
            throw ChatbotError.upstream(`the upstream reported an error: ${safeReason(update.reason, credential)}`, { status });
          }
          if (update.role !== "assistant") continue;
          messageId = update.messageId;
          conversationId = update.conversationId ?? conversationId;
          // Each event carries the whole text so far: pass on what is new.
          if (update.text.length > sent.length && update.text.startsWith(sent)) {
            const delta = update.text.slice(sent.length);
            sent = update.text;
            yield { type: "text", text: delta };
          }
          if (update.finished) finished = true;
        }
      } finally {
        if (!done) response.body.on("error", () => {}).destroy();
      }
      if (signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
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
      meter.ok();
      yield { type: "finish", conversation: { conversationId, parentMessageId: messageId } };
    } catch (error) {
      const failure = this.#failure(error, request, deadline);
      meter.failed(failureOutcome({ failure, caught: error, timedOut: deadline.timedOut }));
      if (failure.code !== ErrorCode.Aborted) this.#log.warn({ ...log, status: failure.upstreamStatus, err: failure.message }, "upstream request failed");
      throw failure;
    } finally {
      deadline.end();
      meter.end();
    }
  }

  /** Sends the request; resolves with the open event stream, or throws an Upstream error for an error answer. */
  async #open({
    url,
    body,
    credential,
    signal,
  }: {
    url: string;
    body: string;
    credential: string;
    signal: AbortSignal;
  }): Promise<Dispatcher.ResponseData> {
    const response = await undiciRequest(url, {
      dispatcher: this.#dispatcher,
      method: "POST",
      headers: {
        authorization: `Bearer ${credential}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body,
      signal,
      // No undici timers (nor the dispatcher's 300 s defaults): the signal carries the attempt's deadline.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const status = response.statusCode;
    const contentType = String(response.headers["content-type"] ?? "");
    if (status >= 200 && status < 300 && !contentType.includes("application/json")) return response;
    // An error status, or a JSON body where an event stream belongs: either way it carries the reason.
    const text = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
    const reason = safeReason(errorDetail(text), credential);
    throw ChatbotError.upstream(`the upstream answered ${status}: ${reason}`, {
      status,
      retryAfterMs: parseRetryAfter(response.headers),
    });
  }

  #decide(error: unknown): RetryDecision {
    if (error instanceof ChatbotError) {
      const status = error.upstreamStatus;
      if (status !== undefined && (status === 429 || status >= 500)) return { retry: true, retryAfterMs: error.retryAfterMs };
      return { retry: false };
    }
    const transport = transportFailure(error);
    return { retry: transport?.retryable ?? false };
  }

  /** Aborted when the caller gave up, Upstream "timed out" when the deadline cut the attempt, else what went wrong. */
  #failure(error: unknown, { credential, signal }: AskRequest, deadline: AttemptDeadline): ChatbotError {
    if (signal.aborted) return ChatbotError.aborted(undefined, safeCause(error, credential));
    if (deadline.timedOut) return ChatbotError.upstream(deadline.message, { cause: safeCause(error, credential) });
    if (error instanceof ChatbotError) return error;
    const cause = safeCause(error, credential);
    const transport = transportFailure(error);
    if (transport !== undefined) return ChatbotError.upstream(transport.reason, { cause });
    return ChatbotError.from(cause);
  }
}

/** `{base}/conversation`, from a base URL with or without a trailing slash or the `/conversation` itself. */
export function conversationUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base.trim());
  } catch (error) {
    throw ChatbotError.invalidArgument("base_url is not a valid http(s) URL", error);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw ChatbotError.invalidArgument("base_url must be an http or https URL");
  const path = url.pathname.replace(/\/+$/, "").replace(/\/conversation$/, "");
  return `${url.origin}${path}/conversation${url.search}`;
}

/** Reads a body as text, at most `limit` bytes (the rest is dropped with the connection). */
async function readBounded(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}
