import {
  type AskRequest,
  type AskResult,
  type Backend,
  ChatbotError,
  ErrorCode,
  type Logger,
  maskSecret,
  silentLogger,
} from "@chatgptchatbot/core";
import type OpenAI from "openai";
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { AttemptDeadline } from "../attempt-deadline.js";
import type { UpstreamOptions } from "../upstream-options.js";
import { readServerSentEvents, type ServerSentEvent } from "../sse.js";
import { type Sleep, withRetries } from "../retry.js";
import { replyEndedEarly } from "../reply-ended-early.js";
import { safeReason } from "../safe-error.js";
import type { FetchLike } from "../undici-fetch.js";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { OPENAI_BASE_URL, type OpenAIEndpoint, resolveOpenAIEndpoint } from "./endpoint.js";
import { decideOpenAIRetry, openAIFailure } from "./openai-failure.js";
import { loadOpenAISdk, type OpenAISdk } from "./openai-sdk.js";

/** The model when neither the session nor the server names one: a current low-cost chat model. */
export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";

export interface OpenAIBackendOptions extends UpstreamOptions {
  /** The transport every request goes through (see `createUndiciFetch`). */
  readonly fetch: FetchLike;
  /** The server's endpoint (API_URL), a base URL or the full chat-completions URL; default OpenAI's. */
  readonly apiUrl?: string | undefined;
  /** Clients kept, one per endpoint, least recently used dropped first (default 32). */
  readonly maxClients?: number | undefined;
}

/** Never sent: every request carries its own `Authorization` header. The SDK insists on a key at construction. */
const PLACEHOLDER_KEY = "per-request-key";

/**
 * The API-key backend ("version 3"): chat completions on any
 * OpenAI-compatible API through the official `openai` SDK, streamed (the SDK
 * sends the request; the event stream is decoded here, see {@link readChunk}).
 * The session's initial prompt is the system prompt (a short VTuber persona when
 * empty), followed by the trimmed history and the new prompt.
 *
 * One SDK client per endpoint, built on first use and kept; the API key goes
 * in each request's headers, so no client is built on the hot path. Retries
 * (429, 5xx, failed connections; Retry-After honoured) are done here, the
 * SDK's own are off, so both backends share one policy. Each attempt has a
 * total deadline ({@link AttemptDeadline}) up to the end of its reply.
 */
export class OpenAIBackend implements Backend {
  readonly initialPrompt = "system" as const;
  readonly defaultSystemPrompt = DEFAULT_SYSTEM_PROMPT;
  readonly #fetch: FetchLike;
  readonly #defaultEndpoint: OpenAIEndpoint;
  readonly #model: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #log: Logger;
  readonly #sleep: Sleep | undefined;
  readonly #maxClients: number;
  readonly #clients = new Map<string, OpenAI>();

  constructor(options: OpenAIBackendOptions) {
    this.#fetch = options.fetch;
    this.#defaultEndpoint = resolveOpenAIEndpoint(options.apiUrl ?? OPENAI_BASE_URL);
    this.#model = options.model ?? DEFAULT_OPENAI_MODEL;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#maxRetries = options.maxRetries;
    this.#log = options.logger ?? silentLogger;
    this.#sleep = options.sleep;
    this.#maxClients = options.maxClients ?? 32;
  }

  async *ask(request: AskRequest): AsyncGenerator<string, AskResult | void, undefined> {
    const { config, credential, signal } = request;
    if (signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
    const endpoint = this.#endpoint(config.baseUrl);
    const sdk = await loadOpenAISdk();
    const client = this.#client(endpoint, sdk);
    const body: ChatCompletionCreateParamsStreaming = {
      model: config.model ?? this.#model,
      messages: buildMessages(request),
      stream: true,
      ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    };
    const log = { backend: "openai", upstream: endpoint.baseURL, model: body.model, credential: maskSecret(credential) };
    // Each attempt's signal: the caller's, or the attempt's deadline (headers and the whole reply);
    // either closes the connection, as does a reply left before its end.
    const deadline = new AttemptDeadline({ signal, timeoutMs: this.#timeoutMs });
    const context = { credential, signal, deadline };
    let complete = false;
    try {
      // The SDK builds and sends the request and turns error statuses into APIErrors; the event
      // stream is read here, with the package's own SSE decoder: the SDK's Stream costs several
      // times more CPU per reply (see BENCHMARKS.md).
      const response = await withRetries(
        () =>
          client.chat.completions
            .create(body, {
              headers: { Authorization: `Bearer ${credential}` },
              signal: deadline.start(),
              timeout: this.#timeoutMs,
              maxRetries: 0,
            })
            .asResponse(),
        {
          maxRetries: this.#maxRetries,
          signal,
          // A timed-out attempt is final: retrying would hold the session's queue for another full timeout.
          decide: (error) => (deadline.timedOut ? { retry: false } : decideOpenAIRetry(error, sdk)),
          onRetry: ({ retry, delayMs, error }) =>
            this.#log.info({ ...log, retry, delayMs, err: openAIFailure(error, context, sdk).message }, "upstream request failed, retrying"),
          ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
        },
      );
      // Failures of a reply that came with a 2xx carry its status: the upstream answered, badly (HTTP 502, not 503).
      const status = response.status;
      if (isJson(response)) {
        // A server that does not stream answers one JSON completion: the whole reply as one delta.
        let parsed: unknown;
        try {
          parsed = await response.json();
        } catch (error) {
          if (error instanceof SyntaxError) throw ChatbotError.upstream(MALFORMED_JSON, { status, cause: error });
          throw error;
        }
        const completion = completionContent(parsed);
        complete = true;
        if ("problem" in completion) throw ChatbotError.upstream(safeReason(completion.problem, credential), { status });
        if (completion.content !== "") yield completion.content;
      } else if (response.body !== null) {
        // A reply is complete at `data: [DONE]` or at a choice's finish_reason (OpenAI, Ollama, vLLM and
        // DeepSeek send both; "length" counts, the reply was cut by max_tokens, not lost). A stream that
        // ends with neither was cut short by a proxy or a crashed server: its text must not go into the history.
        let finished = false;
        let done = false;
        for await (const event of readServerSentEvents(response.body)) {
          if (event.data === "[DONE]") {
            done = true;
            break;
          }
          const chunk = readChunk(event, { credential, status });
          if (chunk.finished) finished = true;
          if (chunk.text !== "") yield chunk.text;
        }
        if (!done && !finished && !signal.aborted) throw replyEndedEarly(status);
        complete = true;
      }
      if (signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
    } catch (error) {
      const failure = openAIFailure(error, context, sdk);
      if (failure.code !== ErrorCode.Aborted) this.#log.warn({ ...log, status: failure.upstreamStatus, err: failure.message }, "upstream request failed");
      throw failure;
    } finally {
      if (!complete) deadline.abort();
      deadline.end();
    }
  }

  #endpoint(baseUrl: string | undefined): OpenAIEndpoint {
    if (baseUrl === undefined) return this.#defaultEndpoint;
    try {
      return resolveOpenAIEndpoint(baseUrl);
    } catch (error) {
      throw ChatbotError.invalidArgument("base_url is not a valid http(s) URL", error);
    }
  }

  #client(endpoint: OpenAIEndpoint, sdk: OpenAISdk): OpenAI {
    const cached = this.#clients.get(endpoint.key);
    if (cached !== undefined) {
      // Most recently used last.
      this.#clients.delete(endpoint.key);
      this.#clients.set(endpoint.key, cached);
      return cached;
    }
    const client = new sdk.OpenAI({
      apiKey: PLACEHOLDER_KEY,
      baseURL: endpoint.baseURL,
      // Explicit nulls: the SDK would otherwise read OPENAI_ORG_ID and friends from process.env.
      organization: null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      defaultQuery: endpoint.query,
      fetch: this.#fetch,
      timeout: this.#timeoutMs,
      maxRetries: 0,
      logLevel: "off",
    });
    this.#clients.set(endpoint.key, client);
    if (this.#clients.size > this.#maxClients) {
      const oldest = this.#clients.keys().next().value;
      if (oldest !== undefined) this.#clients.delete(oldest);
    }
    return client;
  }
}

function isJson(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").includes("application/json");
}

/** The reply of a non-streamed chat completion, or the reason it holds none. */
function completionContent(body: unknown): { content: string } | { problem: string } {
  const record = (typeof body === "object" && body !== null ? body : {}) as {
    choices?: { message?: { content?: unknown } }[];
    error?: { message?: unknown } | string;
  };
  const content = record.choices?.[0]?.message?.content;
  if (typeof content === "string") return { content };
  if (typeof record.error === "string") return { problem: `the upstream reported an error: ${record.error}` };
  if (typeof record.error?.message === "string") return { problem: `the upstream reported an error: ${record.error.message}` };
  return { problem: "the upstream sent a malformed reply (no choices[0].message.content)" };
}

/** What one chat-completion chunk event carries: its text delta ("" when none), and whether a choice finished. */
export interface ChunkEvent {
  readonly text: string;
  /** A choice carries a `finish_reason` (stop, length, content_filter, tool_calls…): the reply is complete. */
  readonly finished: boolean;
}

/** The reason given for a reply whose JSON does not parse. */
const MALFORMED_JSON = "the upstream sent a malformed reply (invalid JSON)";

/**
 * Reads one chat-completion chunk event, as the SDK's Stream reads it: an
 * `error` event or an `error` field is the upstream reporting a failure; an
 * event that is not JSON is a malformed reply. Both are Upstream errors with
 * the reply's HTTP `status`.
 */
export function readChunk({ event, data }: ServerSentEvent, { credential, status }: { credential: string; status: number }): ChunkEvent {
  let chunk: { choices?: unknown; error?: unknown } | null;
  try {
    chunk = JSON.parse(data) as typeof chunk;
  } catch (error) {
    throw ChatbotError.upstream(MALFORMED_JSON, { status, cause: error });
  }
  if (event === "error" || (chunk !== null && typeof chunk === "object" && chunk.error)) {
    const detail = chunk?.error ?? chunk;
    const message =
      typeof detail === "string"
        ? detail
        : typeof (detail as { message?: unknown } | null)?.message === "string"
          ? (detail as { message: string }).message
          : "no reason given";
    throw ChatbotError.upstream(`the upstream reported an error: ${safeReason(message, credential)}`, { status });
  }
  const choices: unknown[] = chunk !== null && typeof chunk === "object" && Array.isArray(chunk.choices) ? chunk.choices : [];
  const first = choices[0];
  const content = typeof first === "object" && first !== null ? (first as { delta?: { content?: unknown } }).delta?.content : undefined;
  const finished = choices.some((choice) => {
    const reason = typeof choice === "object" && choice !== null ? (choice as { finish_reason?: unknown }).finish_reason : undefined;
    return typeof reason === "string" && reason !== "";
  });
  return { text: typeof content === "string" ? content : "", finished };
}

/** System prompt, history (role and content only), then the new prompt. */
export function buildMessages({ systemPrompt, history, prompt }: Pick<AskRequest, "systemPrompt" | "history" | "prompt">): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = new Array(history.length + 2);
  messages[0] = { role: "system", content: systemPrompt.trim() === "" ? DEFAULT_SYSTEM_PROMPT : systemPrompt };
  for (let i = 0; i < history.length; i++) {
    const { role, content } = history[i]!;
    messages[i + 1] = { role, content };
  }
  messages[history.length + 1] = { role: "user", content: prompt };
  return messages;
}
