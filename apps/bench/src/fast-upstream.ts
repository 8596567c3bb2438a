/**
 * A fake upstream built to cost next to nothing per request, so that under
 * load the server being measured is the bottleneck, not its upstream.
 *
 * Why not testkit's `startFakeOpenAI`: that one is built for tests. It keeps
 * every request (parsed JSON) in memory, validates bodies, draws random ids
 * and estimates token usage per request: right for asserting on, but its
 * memory grows without bound under a load of 100,000s of requests and its CPU
 * per request is a large share of a 2-core machine's. This one speaks the same
 * wire shapes (an OpenAI chat completion, its `stream: true` event stream, the
 * ChatGPT-web conversation event stream) from precomputed bytes, never parses
 * a body, and keeps only the last chat-completions body (so the references can
 * replay exactly what the server sent).
 *
 * Path prefixes change how streams are sent (in any order, before the API path):
 * - `/stamp`: the text of the first and of the last streamed chunk starts with
 *   `T<ns>Z`, the monotonic clock (`process.hrtime.bigint()`, system-wide on
 *   Linux) when the fake wrote that event, so a client can tell how long after
 *   the first and the last upstream event the reply reached it (only two
 *   stamps: digits are costly to count tokens of, and the server counts the
 *   reply's tokens);
 * - `/trickle-<ms>`: the events of a stream are sent `<ms>` apart;
 * - `/pieces-<n>` and `/pieces-tokens` (issue 16's workload): a chat-completions
 *   stream cuts the reply into pieces of at most `<n>` characters, or into
 *   token-sized pieces of 2–4 characters (what real models send), one piece
 *   per event, and each chunk carries every field OpenAI's do today
 *   (`service_tier`, `system_fingerprint`, and the `obfuscation` padding that
 *   `stream_options.include_obfuscation` adds by default). Without it, chunks
 *   keep the smaller shape earlier figures of BENCHMARKS.md were measured with.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback-listen.js";

export interface FastUpstreamOptions {
  /** The reply of every chat completion (default {@link DEFAULT_REPLY}). */
  readonly reply?: string;
  /** Events per streamed reply (default 16). */
  readonly streamEvents?: number;
  /** Port on 127.0.0.1 (default 0: the OS picks). */
  readonly port?: number;
}

export interface FastUpstream {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  readonly port: number;
  /** Requests answered so far. */
  readonly served: number;
  /** The last `/v1/chat/completions` request body, as received. */
  readonly lastChatBody: Buffer | undefined;
  /** The `authorization` header of that request. */
  readonly lastChatAuthorization: string | undefined;
  close(): Promise<void>;
}

/** A reply of the length a VTuber's model usually answers a comment with. */
export const DEFAULT_REPLY =
  "Ha, good question! Today we are playing a cozy farming game, planting turnips and chatting with all of you. 一起来种田吧！";

/**
 * Issue 16's reply: ~200 bytes (ASCII, so characters are bytes), what a
 * VTuber's model answers a comment with; 25 events of at most 8 characters.
 */
export const WORKLOAD_REPLY =
  "Ha, good question! Today we are planting turnips in a cozy farming game, and the barn needs a new roof before winter. Yes, we can name the cat after the chat: send me your best names, I will pick one!";

const STREAM_FLAG = Buffer.from('"stream":true');
const PREFIX = /^\/(stamp|trickle-(\d+)|pieces-([1-9]\d*|tokens))(?=\/)/;

/** Splits a text into `n` roughly equal, non-empty parts (fewer if the text is short). */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

/** Cuts a text into pieces of `sizes[0]`, `sizes[1]`, … characters (cycling through `sizes`); the last may be shorter. */
export function cutPieces(text: string, sizes: readonly number[]): string[] {
  const pieces: string[] = [];
  for (let at = 0, i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(text.slice(at, at + size));
    at += size;
  }
  return pieces;
}

/**
 * Token-sized pieces: 3, 2, 4, 3, 2, 4, … characters (3 on average, as BPE
 * tokens of English text are), every one of 2 to 4 (a 1-character tail is
 * joined to the piece before it, or the two are cut 3 + 2).
 */
export function tokenSizedPieces(text: string): string[] {
  const pieces = cutPieces(text, [3, 2, 4]);
  if (pieces.length > 1 && pieces.at(-1)!.length === 1) {
    const joined = pieces.at(-2)! + pieces.at(-1)!;
    pieces.splice(-2, 2, ...(joined.length <= 4 ? [joined] : [joined.slice(0, -2), joined.slice(-2)]));
  }
  return pieces;
}

/** The pieces a `/pieces-<n>` or `/pieces-tokens` prefix asks for. */
export function piecesOf(reply: string, kind: string): string[] {
  if (kind === "tokens") return tokenSizedPieces(reply);
  const size = Number(kind);
  if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`pieces-${kind}: not a piece size`);
  return cutPieces(reply, [size]);
}

/** The monotonic timestamps (ns) a streamed reply carries, in order. */
export function streamTimestamps(reply: string): bigint[] {
  return [...reply.matchAll(/T(\d+)Z/g)].map((m) => BigInt(m[1]!));
}

const stamp = (): string => `T${process.hrtime.bigint()}Z`;

const OBFUSCATION = "q7Vb2xKe9LmPz4Rt";

export async function startFastUpstream({
  reply = DEFAULT_REPLY,
  streamEvents = 16,
  port = 0,
}: FastUpstreamOptions = {}): Promise<FastUpstream> {
  const created = Math.floor(Date.now() / 1000);
  const completion = Buffer.from(
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion",
      created,
      model: "gpt-4o-mini",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: reply, refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 30, total_tokens: 130 },
    }),
  );
  const completionHeaders = { "content-type": "application/json", "content-length": completion.length };
  const sseHeaders = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };
  const parts = splitText(reply, streamEvents);

  const openaiChunk = (delta: object, finish: string | null): string =>
    `data: ${JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    })}\n\n`;
  /** A chunk as OpenAI sends it today, for `/pieces-…` streams. */
  const fullChunk = (delta: { role?: string; content?: string; refusal?: null }, finish: string | null): string =>
    `data: ${JSON.stringify({
      id: "chatcmpl-bench0000000000000000000000",
      object: "chat.completion.chunk",
      created,
      model: "gpt-4o-mini-2024-07-18",
      service_tier: "default",
      system_fingerprint: "fp_bench00000",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      // Random characters upstream, padding each chunk towards one size; fixed ones here.
      obfuscation: OBFUSCATION.slice(0, Math.max(2, 16 - (delta.content?.length ?? 0))),
    })}\n\n`;
  /** Pieces by `/pieces-…` kind, cut once. */
  const piecesByKind = new Map<string, string[]>();

  let served = 0;
  let lastChatBody: Buffer | undefined;
  let lastChatAuthorization: string | undefined;

  interface StreamOptions {
    readonly intervalMs: number;
    readonly stamp: boolean;
    /** The `/pieces-…` kind, if any. */
    readonly pieces: string | undefined;
  }
  const noStamp = (): string => "";
  /** Whether the i-th part is the first or the last (the ones stamped; conversations). */
  const edge = (i: number): boolean => i === 0 || i === parts.length - 1;

  function chatCompletions(
    body: Buffer,
    res: ServerResponse,
    { intervalMs, stamp: stamped, pieces: kind }: StreamOptions,
  ): void {
    lastChatBody = body;
    if (body.indexOf(STREAM_FLAG) === -1) {
      res.writeHead(200, completionHeaders);
      res.end(completion);
      return;
    }
    let pieces = parts;
    let chunk = openaiChunk;
    let role: { role: string; content: string; refusal?: null } = { role: "assistant", content: "" };
    if (kind !== undefined) {
      let cut = piecesByKind.get(kind);
      if (cut === undefined) {
        cut = piecesOf(reply, kind);
        piecesByKind.set(kind, cut);
      }
      pieces = cut;
      chunk = fullChunk;
      role = { role: "assistant", content: "", refusal: null };
    }
    const last = pieces.length - 1;
    res.writeHead(200, sseHeaders);
    const mark = stamped ? stamp : noStamp;
    const events: (() => string)[] = [() => chunk(role, null)];
    for (const [i, part] of pieces.entries()) {
      events.push(() => chunk({ content: `${i === 0 || i === last ? mark() : ""}${part}` }, null));
    }
    events.push(
      () => chunk({}, "stop"),
      () => "data: [DONE]\n\n",
    );
    writeEvents(res, events, intervalMs);
  }

  function conversation(res: ServerResponse, { intervalMs, stamp: stamped }: StreamOptions): void {
    const mark = stamped ? stamp : noStamp;
    res.writeHead(200, sseHeaders);
    const conversationId = randomUUID();
    const messageId = randomUUID();
    let soFar = "";
    const event = (text: string, finished: boolean): string =>
      `data: ${JSON.stringify({
        message: {
          id: messageId,
          author: { role: "assistant", name: null, metadata: {} },
          content: { content_type: "text", parts: [text] },
          status: finished ? "finished_successfully" : "in_progress",
          end_turn: finished ? true : null,
          weight: 1,
          metadata: {},
          recipient: "all",
        },
        conversation_id: conversationId,
        error: null,
      })}\n\n`;
    const events: (() => string)[] = parts.map((part, i) => () => {
      soFar += `${edge(i) ? mark() : ""}${part}`;
      return event(soFar, false);
    });
    events.push(
      () => event(soFar, true),
      () => "data: [DONE]\n\n",
    );
    writeEvents(res, events, intervalMs);
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      served++;
      let path = req.url ?? "/";
      const options: { intervalMs: number; stamp: boolean; pieces: string | undefined } = {
        intervalMs: 0,
        stamp: false,
        pieces: undefined,
      };
      for (let prefix = PREFIX.exec(path); prefix !== null; prefix = PREFIX.exec(path)) {
        if (prefix[1] === "stamp") options.stamp = true;
        else if (prefix[3] !== undefined) options.pieces = prefix[3];
        else options.intervalMs = Number(prefix[2]);
        path = path.slice(prefix[0].length);
      }
      if (req.method === "POST" && path.endsWith("/chat/completions")) {
        lastChatAuthorization = req.headers.authorization;
        chatCompletions(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), res, options);
      } else if (req.method === "POST" && path.endsWith("/conversation")) {
        conversation(res, options);
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
      }
    });
  });
  const listener = await listenOnLoopback({ server, port });
  return {
    origin: listener.origin,
    port: listener.port,
    get served() {
      return served;
    },
    get lastChatBody() {
      return lastChatBody;
    },
    get lastChatAuthorization() {
      return lastChatAuthorization;
    },
    close: listener.close,
  };
}

/** Writes events one `write` each: all at once, or `intervalMs` apart. */
export function writeEvents(
  res: Pick<ServerResponse, "write" | "end" | "destroyed">,
  events: readonly (() => string)[],
  intervalMs: number,
): void {
  if (intervalMs <= 0) {
    for (const event of events) res.write(event());
    res.end();
    return;
  }
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    res.write(events[i++]!());
    if (i === events.length) res.end();
    else setTimeout(next, intervalMs);
  };
  next();
}
