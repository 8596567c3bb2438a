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
 * - `/trickle-<ms>`: the events of a stream are sent `<ms>` apart.
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
  close(): Promise<void>;
}

/** A reply of the length a VTuber's model usually answers a comment with. */
export const DEFAULT_REPLY =
  "Ha, good question! Today we are playing a cozy farming game, planting turnips and chatting with all of you. 一起来种田吧！";

const STREAM_FLAG = Buffer.from('"stream":true');
const PREFIX = /^\/(stamp|trickle-(\d+))(?=\/)/;

/** Splits a text into `n` roughly equal, non-empty parts (fewer if the text is short). */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

/** The monotonic timestamps (ns) a streamed reply carries, in order. */
export function streamTimestamps(reply: string): bigint[] {
  return [...reply.matchAll(/T(\d+)Z/g)].map((m) => BigInt(m[1]!));
}

const stamp = (): string => `T${process.hrtime.bigint()}Z`;

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

  let served = 0;
  let lastChatBody: Buffer | undefined;

  interface StreamOptions {
    readonly intervalMs: number;
    readonly stamp: boolean;
  }
  const noStamp = (): string => "";
  /** Whether the i-th part is the first or the last (the ones stamped). */
  const edge = (i: number): boolean => i === 0 || i === parts.length - 1;

  function chatCompletions(body: Buffer, res: ServerResponse, { intervalMs, stamp: stamped }: StreamOptions): void {
    lastChatBody = body;
    if (body.indexOf(STREAM_FLAG) === -1) {
      res.writeHead(200, completionHeaders);
      res.end(completion);
      return;
    }
    res.writeHead(200, sseHeaders);
    const mark = stamped ? stamp : noStamp;
    const events: (() => string)[] = [() => openaiChunk({ role: "assistant", content: "" }, null)];
    for (const [i, part] of parts.entries()) {
      events.push(() => openaiChunk({ content: `${edge(i) ? mark() : ""}${part}` }, null));
    }
    events.push(
      () => openaiChunk({}, "stop"),
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
      const options = { intervalMs: 0, stamp: false };
      for (let prefix = PREFIX.exec(path); prefix !== null; prefix = PREFIX.exec(path)) {
        if (prefix[1] === "stamp") options.stamp = true;
        else options.intervalMs = Number(prefix[2]);
        path = path.slice(prefix[0].length);
      }
      if (req.method === "POST" && path.endsWith("/chat/completions")) {
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
