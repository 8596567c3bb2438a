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
import type { Dispatcher } from "undici";
import { EventStreamReply } from "../http/event-stream-reply.js";
import { postUpstream } from "../http/post-upstream.js";
import { PartBatch } from "../part-batch.js";
import { replyEndedEarly } from "../reply-ended-early.js";
import { safeReason } from "../safe-error.js";
import { runUpstreamAttempts, type UpstreamCall } from "../upstream-attempts.js";
import type { UpstreamOptions } from "../upstream-options.js";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { OPENAI_BASE_URL, type OpenAIEndpoint, resolveOpenAIEndpoint } from "./endpoint.js";

import {
  type ChunkEvent,
  chatCompletionsBody,
  completionContent,
  isJson,
  MALFORMED_JSON,
  MessageJsonCache,
  openAIErrorReason,
  readChunk,
} from "./protocol.js";
import { ReasoningLog } from "./reasoning-log.js";
import { ThinkTagSplitter } from "./think-tags.js";

/** Sent with every request: gateways log it, and it names who is calling. */
const USER_AGENT = "chatgptchatbot";

/** The model when neither the session nor the server names one: a current low-cost chat model. */
export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";

export interface OpenAIBackendOptions extends UpstreamOptions {
  /** The shared dispatcher (keep-alive pools, proxy routing). */
  readonly dispatcher: Dispatcher;
  /** The server's endpoint (API_URL), a base URL or the full chat-completions URL; default OpenAI's. */
  readonly apiUrl?: string | undefined;
}

/**
 * The API-key backend ("version 3"): chat completions on any
 * OpenAI-compatible API, streamed. The session's initial prompt is the system
 * prompt (a short VTuber persona when empty), followed by the trimmed history
 * and the new prompt.
 *
 * The request is one undici `request` on the shared dispatcher and the event
 * stream is decoded here ({@link readChunk}); the wire types are the `openai`
 * SDK's. The SDK's own request path (its headers, its fetch, web streams and
 * `Response` objects) cost about 250 µs of CPU per chat, more than the rest of
 * this backend, for nothing this server used: its retries, timeouts and
 * stream decoder were already off (BENCHMARKS.md, issue 16). The deadline,
 * retries (429, 5xx, failed connections; Retry-After honoured) and failure
 * mapping are the attempt runner's ({@link runUpstreamAttempts}), shared with
 * the other backend.
 */
export class OpenAIBackend implements Backend {
  readonly initialPrompt = "system" as const;
  readonly defaultSystemPrompt = DEFAULT_SYSTEM_PROMPT;
  readonly #dispatcher: Dispatcher;
  readonly #defaultEndpoint: OpenAIEndpoint;
  readonly #model: string;
  readonly #settings: UpstreamOptions;
  readonly #log: Logger;
  /** Each history entry's message JSON, made once (see chatCompletionsBody). */
  readonly #messageJson = new MessageJsonCache();

  constructor(options: OpenAIBackendOptions) {
    this.#dispatcher = options.dispatcher;
    this.#defaultEndpoint = resolveOpenAIEndpoint(options.apiUrl ?? OPENAI_BASE_URL);
    this.#model = options.model ?? DEFAULT_OPENAI_MODEL;
    this.#settings = options;
    this.#log = options.logger ?? silentLogger;
  }

  ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
    const { credential, signal } = request;
    return runUpstreamAttempts({ credential, signal, settings: this.#settings, prepare: () => this.#prepare(request) });
  }

  /** The request for one ask: its endpoint and body; throws InvalidArgument for a bad base_url. */
  #prepare(request: AskRequest): UpstreamCall<Dispatcher.ResponseData> {
    const { config, credential } = request;
    const endpoint = this.#endpoint(config.baseUrl);
    const model = config.model ?? this.#model;
    // What JSON.stringify({ model, messages: buildMessages(request), stream: true, temperature? }) writes,
    // each history entry's message serialized once, not once a chat.
    const body = chatCompletionsBody({ ...request, model, temperature: config.temperature }, this.#messageJson);
    const logFields = {
      backend: "openai",
      upstream: endpoint.baseURL,
      model,
      credentialMasked: maskSecret(credential),
    };
    return {
      backend: "openai",
      logFields,
      open: (signal) =>
        postUpstream({
          dispatcher: this.#dispatcher,
          url: endpoint.chatCompletionsUrl,
          body,
          credential,
          signal,
          accept: "text/event-stream, application/json",
          userAgent: USER_AGENT,
          reasonOf: openAIErrorReason,
        }),
      read: (response, readToEnd) => this.#read(response, { credential, logFields, readToEnd }),
    };
  }

  /** The parts of a chat-completions reply: streamed (an event stream) or whole (one JSON completion). */
  async *#read(
    response: Dispatcher.ResponseData,
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
    const status = response.statusCode;
    let finishReason: string | undefined;
    let usage: AskUsage | undefined;
    if (isJson(response.headers)) {
      // A server that does not stream answers one JSON completion: the whole reply at once.
      let parsed: unknown;
      try {
        parsed = JSON.parse(await response.body.text());
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
    } else {
      // A reply is complete at `data: [DONE]` or at a choice's finish_reason (OpenAI, Ollama, vLLM and
      // DeepSeek send both; "length" counts, the reply was cut by max_tokens, not lost). A stream that
      // ends with neither was cut short by a proxy or a crashed server: its text must not go into the history.
      let finished = false;
      const batch = new PartBatch();
      const reply = new EventStreamReply(response.body);
      for await (const events of reply) {
        // A chunk's events are read at once and leave as one part of each kind (see PartBatch); what came
        // before a bad event in the same chunk still goes out before its error.
        let failure: { error: unknown } | undefined;
        for (const event of events) {
          let chunk: ChunkEvent;
          try {
            chunk = readChunk(event, { credential, status });
          } catch (error) {
            failure = { error };
            break;
          }
          if (chunk.finishReason !== undefined) {
            finished = true;
            finishReason = chunk.finishReason;
          }
          if (chunk.usage !== undefined) usage = chunk.usage;
          if (chunk.reasoning !== "") {
            reasoning.add(chunk.reasoning);
            batch.add("reasoning", chunk.reasoning);
          }
          if (chunk.text !== "") {
            if (think.passesThrough) batch.add("text", chunk.text);
            else
              for (const part of think.push(chunk.text)) {
                if (part.type === "reasoning") reasoning.add(part.text);
                batch.add(part.type, part.text);
              }
          }
        }
        for (const part of batch.take()) yield part;
        if (failure !== undefined) throw failure.error;
      }
      if (!reply.done && !finished) throw replyEndedEarly(status);
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
}
