import {
  type AskPart,
  type AskRequest,
  type AskUsage,
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
import { ReasoningLog } from "./reasoning-log.js";
import { ThinkTagSplitter } from "./think-tags.js";
import { failureOutcome, UpstreamMeter, type UpstreamObserver } from "../upstream-observer.js";

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
  readonly #observer: UpstreamObserver | undefined;
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
    this.#observer = options.observer;
    this.#maxClients = options.maxClients ?? 32;
  }

  async *ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
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
    const log = { backend: "openai", upstream: endpoint.baseURL, model: body.model, credentialMasked: maskSecret(credential) };
    // Each attempt's signal: the caller's, or the attempt's deadline (headers and the whole reply);
    // either closes the connection, as does a reply left before its end.
    const deadline = new AttemptDeadline({ signal, timeoutMs: this.#timeoutMs });
    const context = { credential, signal, deadline };
    // Reasoning comes as reasoning_content / reasoning deltas or as a leading <think>…</think> in the content:
    // it leaves here as reasoning parts (the pool drops them) and is logged at debug level, bounded.
    const think = new ThinkTagSplitter();
    const reasoning = new ReasoningLog();
    let complete = false;
    const meter = new UpstreamMeter({ observer: this.#observer, backend: "openai" });
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
          onRetry: ({ retry, delayMs, error }) => {
            const failure = openAIFailure(error, context, sdk);
            meter.retry(failureOutcome({ failure, caught: error, timedOut: false }));
            this.#log.info({ ...log, retry, delayMs, err: failure.message }, "upstream request failed, retrying");
          },
          ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
        },
      );
      // Failures of a reply that came with a 2xx carry its status: the upstream answered, badly (HTTP 502, not 503).
      const status = response.status;
      let finishReason: string | undefined;
      let usage: AskUsage | undefined;
      if (isJson(response)) {
        // A server that does not stream answers one JSON completion: the whole reply at once.
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
        if (completion.reasoning !== "") {
          reasoning.add(completion.reasoning);
          yield { type: "reasoning", text: completion.reasoning };
        }
        for (const part of [...think.push(completion.content), ...think.flush()]) {
          if (part.type === "reasoning") reasoning.add(part.text);
          yield part;
        }
        finishReason = completion.finishReason;
        usage = completion.usage;
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
          if (chunk.finishReason !== undefined) {
            finished = true;
            finishReason = chunk.finishReason;
          }
          if (chunk.usage !== undefined) usage = chunk.usage;
          if (chunk.reasoning !== "") {
            reasoning.add(chunk.reasoning);
            yield { type: "reasoning", text: chunk.reasoning };
          }
          if (chunk.text !== "") {
            for (const part of think.push(chunk.text)) {
              if (part.type === "reasoning") reasoning.add(part.text);
              yield part;
            }
          }
        }
        if (!done && !finished && !signal.aborted) throw replyEndedEarly(status);
        complete = true;
        for (const part of think.flush()) {
          if (part.type === "reasoning") reasoning.add(part.text);
          yield part;
        }
      }
      if (signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
      if (reasoning.chars > 0) this.#log.debug({ ...log, ...reasoning.summary() }, "upstream reasoning");
      meter.ok();
      yield {
        type: "finish",
        ...(finishReason === undefined ? {} : { finishReason }),
        ...(usage === undefined ? {} : { usage }),
      };
    } catch (error) {
      const failure = openAIFailure(error, context, sdk);
      meter.failed(failureOutcome({ failure, caught: error, timedOut: deadline.timedOut }));
      if (failure.code !== ErrorCode.Aborted) this.#log.warn({ ...log, status: failure.upstreamStatus, err: failure.message }, "upstream request failed");
      throw failure;
    } finally {
      if (!complete) deadline.abort();
      deadline.end();
      meter.end();
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

/** What a non-streamed chat completion holds: its reply and reasoning, or the reason it holds none. */
type Completion =
  | { content: string; reasoning: string; finishReason: string | undefined; usage: AskUsage | undefined }
  | { problem: string };

/** The reply of a non-streamed chat completion, or the reason it holds none. */
function completionContent(body: unknown): Completion {
  const record = (typeof body === "object" && body !== null ? body : {}) as {
    choices?: { message?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown }; finish_reason?: unknown }[];
    error?: { message?: unknown } | string;
    usage?: unknown;
  };
  const choice = Array.isArray(record.choices) ? record.choices[0] : undefined;
  const content = choice?.message?.content;
  if (typeof content === "string") {
    return {
      content,
      reasoning: reasoningOf(choice?.message),
      finishReason: nonEmptyString(choice?.finish_reason),
      usage: readUsage(record.usage),
    };
  }
  if (typeof record.error === "string") return { problem: `the upstream reported an error: ${record.error}` };
  if (typeof record.error?.message === "string") return { problem: `the upstream reported an error: ${record.error.message}` };
  return { problem: "the upstream sent a malformed reply (no choices[0].message.content)" };
}

/** A delta's or message's reasoning: `reasoning_content` (DeepSeek, vLLM) or `reasoning` (Ollama, OpenRouter); "" when none. */
function reasoningOf(holder: unknown): string {
  if (typeof holder !== "object" || holder === null) return "";
  const { reasoning_content: content, reasoning } = holder as { reasoning_content?: unknown; reasoning?: unknown };
  if (typeof content === "string") return content;
  return typeof reasoning === "string" ? reasoning : "";
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A `usage` object's counts, each kept only when it is a non-negative integer (the upstream is not trusted). */
function readUsage(value: unknown): AskUsage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const usage = value as { prompt_tokens?: unknown; completion_tokens?: unknown; completion_tokens_details?: unknown };
  const count = (n: unknown): number | undefined => (Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : undefined);
  const details = usage.completion_tokens_details;
  const reasoningTokens = count(
    typeof details === "object" && details !== null ? (details as { reasoning_tokens?: unknown }).reasoning_tokens : undefined,
  );
  const promptTokens = count(usage.prompt_tokens);
  const completionTokens = count(usage.completion_tokens);
  if (promptTokens === undefined && completionTokens === undefined && reasoningTokens === undefined) return undefined;
  return {
    ...(promptTokens === undefined ? {} : { promptTokens }),
    ...(completionTokens === undefined ? {} : { completionTokens }),
    ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
  };
}

/** What one chat-completion chunk event carries. */
export interface ChunkEvent {
  /** Its content delta ("" when none). */
  readonly text: string;
  /** Its reasoning delta (`reasoning_content` or `reasoning`; "" when none). */
  readonly reasoning: string;
  /** A choice's `finish_reason` (stop, length, content_filter, tool_calls…): the reply is complete. */
  readonly finishReason: string | undefined;
  /** Token counts, when the chunk carries them (`stream_options.include_usage`). */
  readonly usage: AskUsage | undefined;
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
  const delta = typeof first === "object" && first !== null ? (first as { delta?: unknown }).delta : undefined;
  const content = typeof delta === "object" && delta !== null ? (delta as { content?: unknown }).content : undefined;
  let finishReason: string | undefined;
  for (const choice of choices) {
    const reason = typeof choice === "object" && choice !== null ? (choice as { finish_reason?: unknown }).finish_reason : undefined;
    finishReason ??= nonEmptyString(reason);
  }
  const usage = chunk !== null && typeof chunk === "object" ? readUsage((chunk as { usage?: unknown }).usage) : undefined;
  return { text: typeof content === "string" ? content : "", reasoning: reasoningOf(delta), finishReason, usage };
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
