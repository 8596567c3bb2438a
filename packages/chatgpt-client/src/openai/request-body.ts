/**
 * The body of a chat-completions request, byte for byte what
 * `JSON.stringify({ model, messages, stream: true, temperature })` gives
 * (messages as {@link buildMessages} builds them), built without serializing
 * the whole history again on every chat.
 *
 * A session's history is sent with every chat: at the default 3000-token
 * budget that is ~13 KB of mostly earlier turns, and `JSON.stringify` of it,
 * then its UTF-8 encoding, cost ~70 µs of a chat's CPU (BENCHMARKS.md, issue
 * 16), each turn serialized again on each of the ~40 chats it stays in the
 * history. Here each history entry's `{"role":…,"content":…}` is serialized
 * and encoded once and kept beside the entry object (a WeakMap: it goes when
 * the entry does), and a body is the concatenation of those bytes. The
 * memory and SQLite stores keep the same entry objects from turn to turn, so
 * only the new prompt and the system prompt are serialized per chat; a store
 * that hands out fresh objects (Redis) just never hits the cache. An entry's
 * bytes are reused only while its role and content are the ones they were
 * made from.
 */
import type { ChatMessage } from "@chatgptchatbot/core";
import { systemPromptOrDefault } from "./protocol.js";

interface Fragment {
  readonly role: string;
  readonly content: string;
  readonly bytes: Buffer;
}

const fragments = new WeakMap<ChatMessage, Fragment>();

const COMMA = Buffer.from(",");

export interface ChatCompletionsBodyInput {
  readonly model: string;
  readonly systemPrompt: string;
  readonly history: readonly ChatMessage[];
  readonly prompt: string;
  readonly temperature?: number | undefined;
}

/** The streamed chat-completions request body (see the file's comment). */
export function chatCompletionsBody({
  model,
  systemPrompt,
  history,
  prompt,
  temperature,
}: ChatCompletionsBodyInput): Buffer {
  const head = Buffer.from(
    `{"model":${JSON.stringify(model)},"messages":[${messageJson("system", systemPromptOrDefault(systemPrompt))}`,
  );
  const tail = Buffer.from(
    `,${messageJson("user", prompt)}],"stream":true${temperature === undefined ? "" : `,"temperature":${JSON.stringify(temperature)}`}}`,
  );
  const parts: Buffer[] = new Array(history.length * 2 + 2);
  let at = 0;
  let length = head.length + tail.length;
  parts[at++] = head;
  for (const entry of history) {
    const bytes = entryBytes(entry);
    parts[at++] = COMMA;
    parts[at++] = bytes;
    length += 1 + bytes.length;
  }
  parts[at] = tail;
  return Buffer.concat(parts, length);
}

/** `{"role":…,"content":…}` of a history entry, as UTF-8, made once per entry. */
function entryBytes(entry: ChatMessage): Buffer {
  const known = fragments.get(entry);
  if (known !== undefined && known.role === entry.role && known.content === entry.content) return known.bytes;
  const bytes = Buffer.from(messageJson(entry.role, entry.content));
  fragments.set(entry, { role: entry.role, content: entry.content, bytes });
  return bytes;
}

/** One message as `JSON.stringify({ role, content })` writes it. */
function messageJson(role: string, content: string): string {
  return `{"role":${JSON.stringify(role)},"content":${JSON.stringify(content)}}`;
}
