import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  cutPieces,
  DEFAULT_REPLY,
  type FastUpstream,
  splitText,
  startFastUpstream,
  streamTimestamps,
  tokenSizedPieces,
  WORKLOAD_REPLY,
  writeEvents,
} from "./fast-upstream.js";
import { type NodeHop, startNodeHop } from "./node-hop.js";

let upstream: FastUpstream;
let hop: NodeHop;

beforeAll(async () => {
  upstream = await startFastUpstream({ streamEvents: 4 });
  hop = await startNodeHop({ upstream: upstream.origin, connections: 4 });
});
afterAll(async () => {
  await hop.close();
  await upstream.close();
});

const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "hi" }],
    ...(stream ? { stream: true } : {}),
  });

/** The data payloads of an event stream. */
const payloads = (text: string) =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));

describe("splitText", () => {
  it("splits into at most n non-empty parts that join back", () => {
    expect(splitText("abcdefghij", 4)).toEqual(["abc", "def", "ghi", "j"]);
    expect(splitText("ab", 16)).toEqual(["a", "b"]);
    expect(splitText(DEFAULT_REPLY, 16).join("")).toBe(DEFAULT_REPLY);
  });
});

describe("writeEvents", () => {
  it("writes all events at once, or one per interval", () => {
    vi.useFakeTimers();
    try {
      const written: string[] = [];
      let ended = false;
      const res = { destroyed: false, write: (s: string) => written.push(s) > 0, end: () => (ended = true) } as never;
      writeEvents(
        res,
        ["a", "b", "c"].map((e) => () => e),
        5,
      );
      expect(written).toEqual(["a"]);
      vi.advanceTimersByTime(4);
      expect(written).toEqual(["a"]);
      vi.advanceTimersByTime(1);
      expect(written).toEqual(["a", "b"]);
      vi.advanceTimersByTime(5);
      expect(written).toEqual(["a", "b", "c"]);
      expect(ended).toBe(true);

      written.length = 0;
      writeEvents(
        res,
        ["x", "y"].map((e) => () => e),
        0,
      );
      expect(written).toEqual(["x", "y"]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("fast upstream", () => {
  it("answers a chat completion in OpenAI's shape and keeps the last body", async () => {
    const body = chatBody(false);
    const res = await request(`${upstream.origin}/v1/chat/completions`, { method: "POST", body });
    expect(res.statusCode).toBe(200);
    const json = (await res.body.json()) as { object: string; choices: { message: { content: string } }[] };
    expect(json.object).toBe("chat.completion");
    expect(json.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    expect(upstream.lastChatBody?.toString()).toBe(body);
  });

  it("streams chunks stamped with the monotonic clock, then [DONE]", async () => {
    const before = process.hrtime.bigint();
    const res = await request(`${upstream.origin}/stamp/v1/chat/completions`, { method: "POST", body: chatBody(true) });
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = payloads(await res.body.text());
    expect(events.at(-1)).toBe("[DONE]");
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "")
      .join("");
    const stamps = streamTimestamps(text);
    expect(stamps).toHaveLength(2);
    expect(stamps[0]!).toBeGreaterThanOrEqual(before);
    expect(text.replace(/T\d+Z/g, "")).toBe(DEFAULT_REPLY);
  });

  it("streams a ChatGPT-web conversation whose parts grow to the full reply", async () => {
    const res = await request(`${upstream.origin}/trickle-1/stamp/backend-api/conversation`, {
      method: "POST",
      body: "{}",
    });
    const events = payloads(await res.body.text());
    expect(events.at(-1)).toBe("[DONE]");
    const messages = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { message: { status: string; content: { parts: string[] } } });
    expect(messages).toHaveLength(5);
    const last = messages.at(-1)!.message;
    expect(last.status).toBe("finished_successfully");
    const stamps = streamTimestamps(last.content.parts[0]!);
    expect(stamps).toHaveLength(2);
    expect([...stamps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(stamps);
  });

  it("sends no stamps unless asked", async () => {
    const res = await request(`${upstream.origin}/backend-api/conversation`, { method: "POST", body: "{}" });
    const events = payloads(await res.body.text());
    const last = JSON.parse(events.at(-2)!) as { message: { content: { parts: string[] } } };
    expect(last.message.content.parts[0]).toBe(DEFAULT_REPLY);
  });

  it("answers 404 elsewhere", async () => {
    const res = await request(`${upstream.origin}/nope`);
    expect(res.statusCode).toBe(404);
    await res.body.dump();
  });
});

describe("node hop", () => {
  it("forwards the request and the answer unchanged", async () => {
    const body = chatBody(false);
    const res = await request(`${hop.origin}/v1/chat/completions`, { method: "POST", body });
    expect(res.statusCode).toBe(200);
    const json = (await res.body.json()) as { choices: { message: { content: string } }[] };
    expect(json.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    expect(upstream.lastChatBody?.toString()).toBe(body);
  });
});

describe("pieces", () => {
  it("cuts a text by cycling sizes, the last piece shorter", () => {
    expect(cutPieces("abcdefghij", [4])).toEqual(["abcd", "efgh", "ij"]);
    expect(cutPieces("abcdefghij", [3, 2])).toEqual(["abc", "de", "fgh", "ij"]);
  });

  it("cuts token-sized pieces of 2 to 4 characters, whatever the length", () => {
    for (let length = 2; length <= 40; length++) {
      const text = "x".repeat(length);
      const pieces = tokenSizedPieces(text);
      expect(pieces.join("")).toBe(text);
      for (const piece of pieces) {
        expect(piece.length).toBeGreaterThanOrEqual(2);
        expect(piece.length).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe("fast upstream, issue 16's workload streams", () => {
  let workload: FastUpstream;
  beforeAll(async () => {
    workload = await startFastUpstream({ reply: WORKLOAD_REPLY });
  });
  afterAll(() => workload.close());

  interface Chunk {
    id: string;
    object: string;
    created: number;
    model: string;
    service_tier: string;
    system_fingerprint: string;
    obfuscation: string;
    choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  }

  async function stream(prefix: string): Promise<{ events: string[]; chunks: Chunk[]; contents: string[] }> {
    const res = await request(`${workload.origin}${prefix}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test-workload" },
      body: chatBody(true),
    });
    expect(res.statusCode).toBe(200);
    const events = payloads(await res.body.text());
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    const contents = chunks.slice(1, -1).map((c) => c.choices[0]!.delta.content!);
    return { events, chunks, contents };
  }

  it("streams every chunk in OpenAI's shape: the role first, the pieces, finish_reason stop, then [DONE]", async () => {
    const { events, chunks } = await stream("/pieces-8");
    expect(events.at(-1)).toBe("[DONE]");
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", service_tier: "default" });
      expect(chunk.id).toBe(chunks[0]!.id);
      expect(chunk.created).toBe(chunks[0]!.created);
      expect(typeof chunk.model).toBe("string");
      expect(typeof chunk.system_fingerprint).toBe("string");
      expect(chunk.obfuscation.length).toBeGreaterThan(0);
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0]!.index).toBe(0);
    }
    expect(chunks[0]!.choices[0]!.delta).toMatchObject({ role: "assistant", content: "" });
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    expect(workload.lastChatAuthorization).toBe("Bearer sk-test-workload");
  });

  it("/pieces-8: 28 events, the reply in 25 pieces of at most 8 characters", async () => {
    const { events, contents } = await stream("/pieces-8");
    expect(events).toHaveLength(28);
    expect(contents).toHaveLength(25);
    expect(contents.every((piece) => piece.length >= 1 && piece.length <= 8)).toBe(true);
    expect(contents.join("")).toBe(WORKLOAD_REPLY);
    expect(Buffer.byteLength(contents.join(""))).toBe(200);
  });

  it("/pieces-tokens: one 2-4 character piece an event", async () => {
    const { events, contents } = await stream("/pieces-tokens");
    expect(contents.every((piece) => piece.length >= 2 && piece.length <= 4)).toBe(true);
    expect(contents.join("")).toBe(WORKLOAD_REPLY);
    // 200 characters at 3 on average, plus the role, finish and [DONE] events.
    expect(contents.length).toBeGreaterThanOrEqual(60);
    expect(events).toHaveLength(contents.length + 3);
  });
});
