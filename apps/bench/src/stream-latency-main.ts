/**
 * The streamed-reply benchmark (issue 12): the real program (CLI) in front of
 * an upstream that writes a token-sized piece per event.
 *
 * 1. Latency at c=1: from the upstream event that completes the first
 *    sentence (see stamped-stream-upstream.ts: the upstream runs in this
 *    process and notes when it wrote it) to the client holding that segment, over gRPC (connect-node's gRPC transport,
 *    HTTP/2) and HTTP `POST /ask` as Server-Sent Events (undici).
 * 2. Server CPU per streamed upstream event: streams of `events` events
 *    written at once, the server's /proc CPU over the window divided by the
 *    events relayed; unary `Chat` over the same replies beside it.
 *
 * `node dist/stream-latency-main.js [--streams 200] [--events 64] [--interval 2]`; prints Markdown.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatbotService } from "@chatgptchatbot/proto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { request } from "undici";
import { parseCli } from "./cli-args.js";
import { freePort } from "./free-port.js";
import { readCpuMicros } from "./proc-stat.js";
import { startServer } from "./server-process.js";
import { replyOf, type StampedStreamUpstream, startStampedStreamUpstream } from "./stamped-stream-upstream.js";
import { percentile } from "./stats.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const { values: flags } = parseCli(
  "node dist/stream-latency-main.js [options]: time to the first sentence of streamed replies, through the real program",
  {
    options: {
      streams: { type: "string", default: "200" },
      events: { type: "string", default: "64" },
      interval: { type: "string", default: "2" },
      server: { type: "string", default: join(repoRoot, "apps/server/dist/main.js") },
    },
  },
);
const STREAMS = Number(flags.streams);
const EVENTS = Number(flags.events);
const INTERVAL_MS = Number(flags.interval);

async function withServer<T>(
  upstream: StampedStreamUpstream,
  run: (urls: { grpc: string; http: string; pid: number }) => Promise<T>,
): Promise<T> {
  const server = await startServer({
    bin: flags.server ?? "",
    grpcPort: await freePort(),
    httpPort: await freePort(),
    env: {
      API_URL: `${upstream.origin}/v1`,
      OPENAI_API_KEY: "sk-test-bench-stream-0001",
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_MAX_TOKENS: "1000", // the history stays short: every turn's upstream request is about the same size
      CHATBOT_STORE: "memory",
      LOG_LEVEL: "info",
    },
  });
  try {
    return await run({ grpc: `http://${server.grpcAddress}`, http: server.httpOrigin, pid: server.pid });
  } finally {
    await server.stop();
  }
}

const ms = (ns: bigint): number => Number(ns) / 1e6;
const fmt = (n: number): string => (n < 10 ? n.toFixed(3) : n.toFixed(1));

function summary(samples: number[]): string {
  const sorted = Float64Array.from(samples).sort();
  return `${fmt(percentile(sorted, 0.5))} / ${fmt(percentile(sorted, 0.9))} / ${fmt(percentile(sorted, 0.99))}`;
}

/** gRPC ChatStream at c=1: ms from the stamped upstream event to the first message in the client's hands. */
async function grpcLatency(grpcUrl: string, upstream: StampedStreamUpstream): Promise<number[]> {
  const client = createClient(ChatbotService, createGrpcTransport({ baseUrl: grpcUrl }));
  const { sessionId } = await client.newSession({ config: "" });
  const samples: number[] = [];
  for (let i = 0; i < STREAMS + 10; i++) {
    let first = true;
    for await (const message of client.chatStream({ sessionId, prompt: `turn ${i}` })) {
      if (!first) continue;
      first = false;
      const received = process.hrtime.bigint();
      const reply = replyOf(message.sentence);
      if (reply === undefined) throw new Error(`the first segment names no reply: ${JSON.stringify(message.sentence)}`);
      if (i >= 10) samples.push(ms(received - upstream.completions[reply]!)); // the first 10: warmup
    }
  }
  return samples;
}

/** HTTP `POST /ask` as Server-Sent Events at c=1: the same, to the first `event: sentence` read off the socket. */
async function sseLatency(httpOrigin: string, upstream: StampedStreamUpstream): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < STREAMS + 10; i++) {
    const res = await request(`${httpOrigin}/ask`, {
      method: "POST",
      headers: { accept: "text/event-stream" },
      body: JSON.stringify({ prompt: `turn ${i}` }),
    });
    let text = "";
    let done = false;
    for await (const chunk of res.body) {
      if (done) continue;
      text += chunk.toString();
      const end = text.indexOf("\n\n");
      if (end < 0) continue;
      const received = process.hrtime.bigint();
      done = true;
      const reply = replyOf(text.slice(0, end));
      if (reply === undefined) throw new Error(`the first event names no reply: ${JSON.stringify(text.slice(0, end))}`);
      if (i >= 10) samples.push(ms(received - upstream.completions[reply]!));
    }
  }
  return samples;
}

/** Server CPU µs per upstream event, for `count` replies through ChatStream or Chat. */
async function cpuPerEvent(
  grpcUrl: string,
  pid: number,
  upstream: StampedStreamUpstream,
  stream: boolean,
): Promise<number> {
  const client = createClient(ChatbotService, createGrpcTransport({ baseUrl: grpcUrl }));
  const { sessionId } = await client.newSession({ config: "" });
  const turn = async (i: number) => {
    if (stream) for await (const _ of client.chatStream({ sessionId, prompt: `cpu ${i}` }));
    else await client.chat({ sessionId, prompt: `cpu ${i}` });
  };
  for (let i = 0; i < 20; i++) await turn(i); // warmup
  const events = upstream.eventsWritten;
  const cpu = readCpuMicros(pid);
  for (let i = 0; i < STREAMS; i++) await turn(i);
  return (readCpuMicros(pid) - cpu) / (upstream.eventsWritten - events);
}

const paced = await startStampedStreamUpstream({ events: EVENTS, intervalMs: INTERVAL_MS });
const { grpc, sse } = await withServer(paced, async ({ grpc, http }) => ({
  grpc: await grpcLatency(grpc, paced),
  sse: await sseLatency(http, paced),
}));
await paced.close();

const burst = await startStampedStreamUpstream({ events: EVENTS, intervalMs: 0 });
const cpu = await withServer(burst, async ({ grpc, pid }) => ({
  stream: await cpuPerEvent(grpc, pid, burst, true),
  unary: await cpuPerEvent(grpc, pid, burst, false),
}));
await burst.close();

console.log(
  `Streams of ${EVENTS} upstream events, ${INTERVAL_MS} ms apart for latency, at once for CPU; ${STREAMS} measured streams each, c=1.\n`,
);
console.log("| Client | Upstream event completing the first sentence → client holds it, p50 / p90 / p99 (ms) |");
console.log("|---|--:|");
console.log(`| gRPC \`ChatStream\` (connect-node gRPC transport, HTTP/2) | ${summary(grpc)} |`);
console.log(`| HTTP \`POST /ask\`, \`Accept: text/event-stream\` (undici) | ${summary(sse)} |`);
console.log("");
console.log("| Call | Server CPU per upstream event |");
console.log("|---|--:|");
console.log(`| \`ChatStream\` (a message per sentence) | ${cpu.stream.toFixed(1)} µs |`);
console.log(`| \`Chat\` (the same replies, one message) | ${cpu.unary.toFixed(1)} µs |`);
