import { type AskRequest, type AskUsage, ChatbotError, type ChatMessage } from "@chatgptchatbot/core";
import type { ServerSentEvent } from "@chatgptchatbot/sse";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { safeReason } from "../safe-error.js";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";

/**
 * The chat-completions wire format, read defensively (the upstream is not
 * trusted): the messages sent, each streamed chunk, and a whole (non-streamed)
 * completion.
 */

/** Whether a reply is one JSON completion rather than an event stream. */
export function isJson(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  return String(headers["content-type"] ?? "").includes("application/json");
}

/** What a non-streamed chat completion holds: its reply and reasoning, or the reason it holds none. */
export type Completion =
  | { content: string; reasoning: string; finishReason: string | undefined; usage: AskUsage | undefined }
  | { problem: string };

/** The reply of a non-streamed chat completion, or the reason it holds none. */
export function completionContent(body: unknown): Completion {
  const record = (typeof body === "object" && body !== null ? body : {}) as {
    choices?: {
      message?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown };
      finish_reason?: unknown;
    }[];
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
  if (typeof record.error?.message === "string")
    return { problem: `the upstream reported an error: ${record.error.message}` };
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
  const count = (n: unknown): number | undefined =>
    Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : undefined;
  const details = usage.completion_tokens_details;
  const reasoningTokens = count(
    typeof details === "object" && details !== null
      ? (details as { reasoning_tokens?: unknown }).reasoning_tokens
      : undefined,
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
export const MALFORMED_JSON = "the upstream sent a malformed reply (invalid JSON)";

/**
 * Reads one chat-completion chunk event, as the SDK's Stream reads it: an
 * `error` event or an `error` field is the upstream reporting a failure; an
 * event that is not JSON is a malformed reply. Both are Upstream errors with
 * the reply's HTTP `status`.
 */
export function readChunk(
  { event, data }: ServerSentEvent,
  { credential, status }: { credential: string; status: number },
): ChunkEvent {
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
  const choices: unknown[] =
    chunk !== null && typeof chunk === "object" && Array.isArray(chunk.choices) ? chunk.choices : [];
  const first = choices[0];
  const delta = typeof first === "object" && first !== null ? (first as { delta?: unknown }).delta : undefined;
  const content = typeof delta === "object" && delta !== null ? (delta as { content?: unknown }).content : undefined;
  let finishReason: string | undefined;
  for (const choice of choices) {
    const reason =
      typeof choice === "object" && choice !== null ? (choice as { finish_reason?: unknown }).finish_reason : undefined;
    finishReason ??= nonEmptyString(reason);
  }
  const usage =
    chunk !== null && typeof chunk === "object" ? readUsage((chunk as { usage?: unknown }).usage) : undefined;
  return { text: typeof content === "string" ? content : "", reasoning: reasoningOf(delta), finishReason, usage };
}

/** The system message's content: the session's system prompt, or the default persona when it is blank. */
function systemContent(systemPrompt: string): string {
  return systemPrompt.trim() === "" ? DEFAULT_SYSTEM_PROMPT : systemPrompt;
}

/** System prompt, history (role and content only), then the new prompt. */
export function buildMessages({
  systemPrompt,
  history,
  prompt,
}: Pick<AskRequest, "systemPrompt" | "history" | "prompt">): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = new Array(history.length + 2);
  messages[0] = { role: "system", content: systemContent(systemPrompt) };
  for (let i = 0; i < history.length; i++) {
    const { role, content } = history[i]!;
    messages[i + 1] = { role, content };
  }
  messages[history.length + 1] = { role: "user", content: prompt };
  return messages;
}

/** A message's JSON and its length in UTF-8. */
export interface MessageJson {
  readonly json: string;
  readonly bytes: number;
}

function messageJson(message: ChatMessage): MessageJson {
  const json = JSON.stringify({ role: message.role, content: message.content });
  return { json, bytes: Buffer.byteLength(json, "utf8") };
}

/**
 * The JSON of history entries as chat messages (`{"role":…,"content":…}`)
 * and its UTF-8 length, by entry: a session's history is the same entry
 * objects chat after chat (the stores keep them), so each is serialized once
 * instead of once a chat. Kept as long as the entry itself lives (a
 * `WeakMap`): an entry the budget dropped, or a deleted session's, takes its
 * JSON with it. Strings, on V8's heap: bytes kept per entry would be small
 * native allocations living as long as a history, which the allocator cannot
 * give back around (about 10 MB more RSS after a load had passed, measured).
 * The last system message is kept too (a session's persona is the same chat
 * after chat).
 */
export class MessageJsonCache {
  readonly #byEntry = new WeakMap<ChatMessage, MessageJson>();
  #system: { content: string; message: MessageJson } | undefined;

  entry(entry: ChatMessage): MessageJson {
    let message = this.#byEntry.get(entry);
    if (message === undefined) {
      message = messageJson(entry);
      this.#byEntry.set(entry, message);
    }
    return message;
  }

  system(content: string): MessageJson {
    if (this.#system?.content !== content) {
      this.#system = { content, message: messageJson({ role: "system", content }) };
    }
    return this.#system.message;
  }
}

/**
 * The streamed chat-completions request body: the UTF-8 bytes of exactly what
 * `JSON.stringify({ model, messages: buildMessages(…), stream: true, temperature? })`
 * writes, each history entry's message JSON taken from `cache` and written
 * straight into one buffer (no serializing of the whole history a chat, no
 * string of it for undici to flatten and encode again).
 */
export function chatCompletionsBody(
  {
    model,
    temperature,
    systemPrompt,
    history,
    prompt,
  }: Pick<AskRequest, "systemPrompt" | "history" | "prompt"> & { model: string; temperature: number | undefined },
  cache: MessageJsonCache,
): Buffer {
  const head = `{"model":${JSON.stringify(model)},"messages":[`;
  const system = cache.system(systemContent(systemPrompt));
  const temperatureJson = temperature === undefined ? "" : `,"temperature":${JSON.stringify(temperature)}`;
  const tail = `,${JSON.stringify({ role: "user", content: prompt })}],"stream":true${temperatureJson}}`;
  const entries = new Array<MessageJson>(history.length);
  // A comma before each history entry.
  let length = Buffer.byteLength(head, "utf8") + system.bytes + Buffer.byteLength(tail, "utf8") + history.length;
  for (let i = 0; i < history.length; i++) {
    entries[i] = cache.entry(history[i]!);
    length += entries[i]!.bytes;
  }
  const body = Buffer.allocUnsafe(length);
  let at = body.write(head, 0, "utf8");
  at += body.write(system.json, at, "utf8");
  for (const entry of entries) {
    body[at++] = COMMA;
    at += body.write(entry.json, at, "utf8");
  }
  body.write(tail, at, "utf8");
  return body;
}

const COMMA = 0x2c;

/**
 * The reason an OpenAI-compatible error body gives: `error.message` (OpenAI,
 * Azure, DeepSeek, vLLM, Ollama's `/v1`), else the `error` itself (a string,
 * or its JSON), else a top-level `message` or `detail` (some gateways), else
 * the body as it is; "no reason given" for an empty one. The caller makes it
 * one bounded line with the credential masked.
 */
export function openAIErrorReason(body: string): string {
  if (body.trim() === "") return "no reason given";
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof parsed !== "object" || parsed === null) return body;
  const { error, message, detail } = parsed as { error?: unknown; message?: unknown; detail?: unknown };
  if (error !== undefined && error !== null) {
    if (typeof error === "string") return error;
    const inner = (error as { message?: unknown }).message;
    if (typeof inner === "string" && inner !== "") return inner;
    if (inner !== undefined && inner !== null && inner !== "") return JSON.stringify(inner);
    return JSON.stringify(error);
  }
  if (typeof message === "string" && message !== "") return message;
  if (typeof detail === "string" && detail !== "") return detail;
  return body;
}
