import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AbortTracker } from "./abort-tracker.js";
import { chunkText, chunkTokens } from "./chunk-text.js";
import { countPromptTokens, countTextTokens } from "./count-tokens.js";
import { pause, sendEventStream, writeFlushed } from "./event-stream.js";
import { type Fault, FaultQueue } from "./fault.js";
import { startLocalServer } from "./local-server.js";
import { bearerToken, type RecordedRequest, recordRequest } from "./recorded-request.js";
import { formatSSE, SSE_DONE } from "./sse.js";

export interface FakeOpenAIOptions {
  /** Reply text for a request; default: `echo: <last user message content>`. */
  reply?: (request: RecordedRequest) => string;
  /** Delay between SSE chunks when streaming (ms), default 0. */
  chunkDelayMs?: number;
  /** Models listed by `GET /v1/models`; default `["gpt-4o-mini"]`. */
  models?: string[];
  /**
   * How streamed text is cut into events: `"words"` (default: each word with the white space
   * before it) or `"tokens"` (1–4 characters per event, like a real model, see `chunkTokens`).
   */
  pieces?: "words" | "tokens";
  /** Reasoning a thinking model sends before its reply, and in which form; default none. */
  reasoning?: FakeReasoning;
}

/**
 * The forms reasoning takes on OpenAI-compatible APIs: `reasoning_content` deltas (DeepSeek,
 * vLLM; `content: null` beside them), `reasoning` deltas (Ollama, OpenRouter; `content: ""`),
 * or `<think>…</think>` at the start of the content (models served with thinking in the text).
 */
export type ReasoningForm = "reasoning_content" | "reasoning" | "think-tag";

export interface FakeReasoning {
  form: ReasoningForm;
  /** The reasoning, or a function of the request giving it ("" sends none). */
  text: string | ((request: RecordedRequest) => string);
}

export interface FakeOpenAI {
  /** Base URL for an OpenAI client, e.g. "http://127.0.0.1:PORT/v1". */
  url: string;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  /** Every request to /v1/chat/completions, in order (including the ones a fault answered). */
  requests: RecordedRequest[];
  /** Queues faults: each upcoming chat completion request consumes the next one (FIFO); an empty queue answers normally. */
  enqueueFault(...faults: Fault[]): void;
  /**
   * For each streamed reply, in order, when each of its events was handed to the socket
   * (`performance.timeOrigin + performance.now()`, ms): the fake's clock for latency tests.
   */
  eventTimes: number[][];
  /** Replies whose connection the client closed before they finished. */
  readonly abortedRequests: number;
  /** Resolves once an abort happened that no earlier call consumed (one that already happened counts). */
  waitForAbort(timeoutMs?: number): Promise<void>;
  /** Closes the server and every socket. */
  close(): Promise<void>;
}

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** `{ type, code }` of the error OpenAI sends for a status. */
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: "invalid_request_error", code: "invalid_api_key" };
  if (status === 404) return { type: "invalid_request_error", code: "model_not_found" };
  if (status === 429) return { type: "requests", code: "rate_limit_exceeded" };
  if (status >= 500) return { type: "server_error", code: null };
  return { type: "invalid_request_error", code: null };
}

const defaultMessages: Record<number, string> = {
  401: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
  403: "You are not allowed to sample from this model",
  404: "The model does not exist or you do not have access to it.",
  429: "Rate limit reached for requests. Please try again later.",
  500: "The server had an error while processing your request. Sorry about that!",
  503: "The engine is currently overloaded, please try again later.",
};

function sendError(
  res: ServerResponse,
  {
    status,
    message,
    retryAfter,
    param = null,
  }: { status: number; message?: string; retryAfter?: number; param?: string | null },
): void {
  const body: OpenAIErrorBody = {
    error: {
      message: message ?? defaultMessages[status] ?? `Request failed with status ${status}`,
      param,
      ...errorKind(status),
    },
  };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-request-id": `req_${randomBytes(16).toString("hex")}`,
  };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

/** The text of a message's `content`: a string, or the text parts of a content array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "",
      )
      .join("");
  }
  return "";
}

interface ChatMessage {
  role: string;
  content: string;
  name?: string;
}

/** The messages of a chat completion body, or an error message saying why it is invalid. */
function parseChatBody(
  body: unknown,
): { model: string; messages: ChatMessage[]; stream: boolean; includeUsage: boolean } | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";
  }
  const record = body as Record<string, unknown>;
  if (typeof record.model !== "string" || record.model === "") return "you must provide a model parameter";
  if (!Array.isArray(record.messages) || record.messages.length === 0) {
    return "[] is too short - 'messages'";
  }
  const messages: ChatMessage[] = [];
  for (const [index, message] of (record.messages as unknown[]).entries()) {
    if (typeof message !== "object" || message === null || typeof (message as { role?: unknown }).role !== "string") {
      return `Missing required parameter: 'messages[${index}].role'.`;
    }
    const { role, content, name } = message as { role: string; content?: unknown; name?: unknown };
    messages.push({ role, content: contentText(content), ...(typeof name === "string" ? { name } : {}) });
  }
  const streamOptions = record.stream_options as { include_usage?: unknown } | undefined;
  return {
    model: record.model,
    messages,
    stream: record.stream === true,
    includeUsage: record.stream === true && streamOptions?.include_usage === true,
  };
}

function defaultReply(request: RecordedRequest): string {
  const parsed = parseChatBody(request.body);
  if (typeof parsed === "string") return "echo: ";
  const lastUser = parsed.messages.findLast((message) => message.role === "user");
  return `echo: ${lastUser?.content ?? ""}`;
}

/**
 * Starts a fake OpenAI-compatible API on 127.0.0.1: `POST /v1/chat/completions`
 * (JSON, or SSE with `stream: true`) and `GET /v1/models`, both requiring
 * `Authorization: Bearer <anything>`. Usage is counted with the o200k_base
 * tokenizer: `completion_tokens` are the reply's tokens, `prompt_tokens` follow
 * OpenAI's per-message rule (see `countPromptTokens`).
 *
 * Faults, taken by the next chat completion request (before its auth is checked):
 * `status` → that status with OpenAI's error JSON; `malformed` → 200 `application/json`
 * with a truncated JSON body, or for `stream: true` a 200 event stream whose first event
 * is truncated JSON; `cut` → half the reply, then the socket is destroyed; `hang` → no
 * answer; `trickle` → one event every `intervalMs` (non-streaming: the reply waits
 * `intervalMs` × content chunks); for `stream: true` only, `error-event` → half the reply, then
 * `event: error` with OpenAI's error JSON; `unterminated` → the reply's content chunks, then a
 * clean end with neither a `finish_reason` nor `[DONE]`. (404's default body is `model_not_found`.)
 *
 * Realistic streaming: `pieces: "tokens"` sends 1–4 characters per event, `chunkDelayMs` spaces
 * the events, `reasoning` adds a thinking model's reasoning in one of its three forms, and
 * `SAMPLE_REPLIES` has multi-sentence Chinese, Japanese and English replies to send.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const { reply = defaultReply, chunkDelayMs = 0, models = ["gpt-4o-mini"], pieces = "words", reasoning } = options;
  const split = pieces === "tokens" ? chunkTokens : chunkText;
  const requests: RecordedRequest[] = [];
  const eventTimes: number[][] = [];
  const faults = new FaultQueue();
  const tracker = new AbortTracker();
  const systemFingerprint = `fp_${randomBytes(5).toString("hex")}`;
  const created = Math.floor(Date.now() / 1000);

  async function chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await recordRequest(req);
    requests.push(request);
    const fault = faults.next();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "status") {
      sendError(res, fault);
      return;
    }
    if (fault?.kind === "malformed") {
      const broken = `{"id":"chatcmpl-${randomBytes(6).toString("hex")}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"echo`;
      if (typeof request.body === "object" && request.body?.stream === true) {
        await sendEventStream({ res, tracker, events: [`data: ${broken}\n\n`, formatSSE(SSE_DONE)] });
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(broken);
      }
      return;
    }
    if (bearerToken(request.headers) === undefined) {
      sendError(res, {
        status: 401,
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      });
      return;
    }
    const parsed = parseChatBody(request.body);
    if (typeof parsed === "string") {
      sendError(res, { status: 400, message: parsed });
      return;
    }
    const answer = reply(request);
    const thinking = typeof reasoning?.text === "function" ? reasoning.text(request) : (reasoning?.text ?? "");
    const form = thinking === "" ? undefined : reasoning?.form;
    // With the think-tag form the reasoning is part of the content, as such models send it.
    const text = form === "think-tag" ? `<think>\n${thinking}\n</think>\n\n${answer}` : answer;
    const separate = form === "reasoning_content" || form === "reasoning" ? form : undefined;
    const chunks = split(text);
    const id = `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 29)}`;
    const promptTokens = countPromptTokens(parsed.messages);
    const reasoningTokens = form === undefined ? 0 : countTextTokens(thinking);
    const completionTokens = countTextTokens(text) + (separate === undefined ? 0 : reasoningTokens);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: reasoningTokens,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const headers = { "x-request-id": `req_${randomBytes(16).toString("hex")}`, "openai-processing-ms": "1" };

    if (!parsed.stream) {
      const body = JSON.stringify({
        id,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: parsed.model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: text,
              ...(separate === undefined ? {} : { [separate]: thinking }),
              refusal: null,
              annotations: [],
            },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage,
        service_tier: "default",
        system_fingerprint: systemFingerprint,
      });
      if (fault?.kind === "trickle" && !(await pause(res, fault.intervalMs * chunks.length))) return;
      const bytes = Buffer.from(body, "utf8");
      res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length, ...headers });
      if (fault?.kind === "cut") {
        await writeFlushed(res, bytes.subarray(0, Math.floor(bytes.length / 2)));
        tracker.destroy(res);
        return;
      }
      res.end(bytes);
      return;
    }

    const chunk = (delta: object, finishReason: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: parsed.model,
      service_tier: "default",
      system_fingerprint: systemFingerprint,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(parsed.includeUsage ? { usage: null } : {}),
    });
    const events = [
      formatSSE(chunk({ role: "assistant", content: "", refusal: null }, null)),
      ...(separate === undefined ? [] : split(thinking)).map((piece) =>
        formatSSE(
          chunk({ content: separate === "reasoning_content" ? null : "", [separate ?? "reasoning"]: piece }, null),
        ),
      ),
      ...chunks.map((content) => formatSSE(chunk({ content }, null))),
    ];
    if (fault?.kind === "unterminated") {
      // The text, then a clean close: no finish_reason, no usage, no [DONE].
      await sendEventStream({ res, tracker, headers, events, intervalMs: chunkDelayMs });
      return;
    }
    if (fault?.kind === "error-event") {
      // Part of the reply, then the error event OpenAI-compatible servers send mid-stream, and the end.
      const partial = events.slice(0, Math.max(1, Math.ceil(events.length / 2)));
      const error = {
        error: { message: fault.message ?? defaultMessages[503], type: "server_error", param: null, code: null },
      };
      await sendEventStream({
        res,
        tracker,
        headers,
        events: [...partial, `event: error\n${formatSSE(error)}`],
        intervalMs: chunkDelayMs,
      });
      return;
    }
    events.push(formatSSE(chunk({}, "stop")));
    if (parsed.includeUsage) {
      events.push(
        formatSSE({
          id,
          object: "chat.completion.chunk",
          created: Math.floor(Date.now() / 1000),
          model: parsed.model,
          service_tier: "default",
          system_fingerprint: systemFingerprint,
          choices: [],
          usage,
        }),
      );
    }
    events.push(formatSSE(SSE_DONE));
    const times: number[] = [];
    eventTimes.push(times);
    await sendEventStream({
      res,
      tracker,
      headers,
      events,
      intervalMs: fault?.kind === "trickle" ? fault.intervalMs : chunkDelayMs,
      cut: fault?.kind === "cut",
      onSent: (index) => {
        times[index] = performance.timeOrigin + performance.now();
      },
    });
  }

  const server = await startLocalServer({
    async handler(req, res) {
      tracker.watch(res);
      const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
      if (pathname === "/v1/chat/completions" && req.method === "POST") {
        await chatCompletions(req, res);
        return;
      }
      req.resume();
      if (pathname === "/v1/models" && req.method === "GET") {
        if (bearerToken({ ...req.headers }) === undefined) {
          sendError(res, { status: 401, message: "You didn't provide an API key." });
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "list",
            data: models.map((id) => ({ id, object: "model", created, owned_by: "system" })),
          }),
        );
        return;
      }
      sendError(res, { status: 404, message: `Invalid URL (${req.method} ${pathname})` });
    },
  });

  return {
    url: `${server.origin}/v1`,
    origin: server.origin,
    requests,
    eventTimes,
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
