import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_REPLY,
  type FastUpstream,
  splitText,
  startFastUpstream,
  streamTimestamps,
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
