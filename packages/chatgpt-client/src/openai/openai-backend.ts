import {
  type AskPart,
  type AskRequest,
  type AskUsage,
  type Backend,
  ChatbotError,
  type Logger,
  maskSecret,
  silentLogger,
} from "@chatgptchatbot/core";
import { readServerSentEvents } from "@chatgptchatbot/sse";
import type OpenAI from "openai";
import type { ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import type { FetchLike } from "../http/undici-fetch.js";
import { replyEndedEarly } from "../reply-ended-early.js";
import { safeReason } from "../safe-error.js";
import { runUpstreamAttempts, type UpstreamCall } from "../upstream-attempts.js";
import type { UpstreamOptions } from "../upstream-options.js";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { OPENAI_BASE_URL, type OpenAIEndpoint, resolveOpenAIEndpoint } from "./endpoint.js";
import { openAIErrors } from "./openai-failure.js";
import { loadOpenAISdk, type OpenAISdk } from "./openai-sdk.js";
import { buildMessages, completionContent, isJson, MALFORMED_JSON, readChunk } from "./protocol.js";
import { ReasoningLog } from "./reasoning-log.js";
import { ThinkTagSplitter } from "./think-tags.js";

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
 * in each request's headers, so no client is built on the hot path. The
 * deadline, retries (429, 5xx, failed connections; Retry-After honoured) and
 * failure mapping are the attempt runner's ({@link runUpstreamAttempts}),
 * shared with the other backend; the SDK's own retries are off.
 */
export class OpenAIBackend implements Backend {
  readonly initialPrompt = "system" as const;
  readonly defaultSystemPrompt = DEFAULT_SYSTEM_PROMPT;
  readonly #fetch: FetchLike;
  readonly #defaultEndpoint: OpenAIEndpoint;
  readonly #model: string;
  readonly #timeoutMs: number;
  readonly #settings: UpstreamOptions;
  readonly #log: Logger;
  readonly #maxClients: number;
  readonly #clients = new Map<string, OpenAI>();

  constructor(options: OpenAIBackendOptions) {
    this.#fetch = options.fetch;
    this.#defaultEndpoint = resolveOpenAIEndpoint(options.apiUrl ?? OPENAI_BASE_URL);
    this.#model = options.model ?? DEFAULT_OPENAI_MODEL;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#settings = options;
    this.#log = options.logger ?? silentLogger;
    this.#maxClients = options.maxClients ?? 32;
  }

  ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
    const { credential, signal } = request;
    return runUpstreamAttempts({ credential, signal, settings: this.#settings, prepare: () => this.#prepare(request) });
  }

  /** The request for one ask: its endpoint, SDK client and body; throws InvalidArgument for a bad base_url. */
  async #prepare(request: AskRequest): Promise<UpstreamCall<Response>> {
    const { config, credential } = request;
    const endpoint = this.#endpoint(config.baseUrl);
    const sdk = await loadOpenAISdk();
    const client = this.#client(endpoint, sdk);
    const body: ChatCompletionCreateParamsStreaming = {
      model: config.model ?? this.#model,
      messages: buildMessages(request),
      stream: true,
      ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    };
    const logFields = {
      backend: "openai",
      upstream: endpoint.baseURL,
      model: body.model,
      credentialMasked: maskSecret(credential),
    };
    return {
      backend: "openai",
      logFields,
      vendor: openAIErrors(sdk, credential),
      // The SDK builds and sends the request and turns error statuses into APIErrors; the event
      // stream is read here, with the package's own SSE decoder: the SDK's Stream costs several
      // times more CPU per reply (see BENCHMARKS.md).
      open: (attemptSignal) =>
        client.chat.completions
          .create(body, {
            headers: { Authorization: `Bearer ${credential}` },
            signal: attemptSignal,
            timeout: this.#timeoutMs,
            maxRetries: 0,
          })
          .asResponse(),
      read: (response, readToEnd) => this.#read(response, { credential, logFields, readToEnd }),
    };
  }

  /** The parts of a chat-completions reply: streamed (an event stream) or whole (one JSON completion). */
  async *#read(
    response: Response,
    {
      credential,
      logFields,
      readToEnd,
    }: { credential: string; logFields: Readonly<Record<string, unknown>>; readToEnd: () => void },
  ): AsyncGenerator<AskPart, void, undefined> {
    // Reasoning comes as reasoning_content / reasoning deltas or as a leading <think>…</think> in the content:
    // it leaves here as reasoning parts (the pool drops them) and is logged at debug level, bounded.
    const think = new ThinkTagSplitter();
    const reasoning = new ReasoningLog();
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
      readToEnd();
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
      if (!done && !finished) throw replyEndedEarly(status);
      readToEnd();
      for (const part of think.flush()) {
        if (part.type === "reasoning") reasoning.add(part.text);
        yield part;
      }
    }
    if (reasoning.chars > 0) this.#log.debug({ ...logFields, ...reasoning.summary() }, "upstream reasoning");
    yield {
      type: "finish",
      ...(finishReason === undefined ? {} : { finishReason }),
      ...(usage === undefined ? {} : { usage }),
    };
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
