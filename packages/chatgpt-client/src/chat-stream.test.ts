/**
 * SessionPool.chatStream over the real API-key backend and the fake OpenAI
 * upstream in realistic mode (1–4 characters per event): sentences arrive
 * while the upstream is still writing, reasoning never shows, Chat and
 * ChatStream agree, and a consumer that leaves closes the upstream connection.
 */
import { type ChatStreamPart, ErrorCode, filterReply, SessionPool } from "@chatgptchatbot/core";
import {
  type FakeOpenAI,
  type FakeOpenAIOptions,
  type ReasoningForm,
  SAMPLE_REASONING,
  SAMPLE_REPLIES,
  startFakeOpenAI,
} from "@chatgptchatbot/testkit";
import { closeAfterEach, rejection } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { backendParts } from "../test/backend-parts.js";
import { OpenAIBackend } from "./openai/openai-backend.js";

const cleanup = closeAfterEach();

async function setup(options: FakeOpenAIOptions) {
  const fake = await startFakeOpenAI({ pieces: "tokens", ...options });
  cleanup.push(() => fake.close());
  const { dispatcher } = backendParts(cleanup);
  const backend = new OpenAIBackend({ dispatcher, apiUrl: fake.url, requestTimeoutMs: 10_000, maxRetries: 0 });
  const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, cooldown: { apiKeyMs: 0 } });
  cleanup.push(() => pool.close());
  return { fake, pool };
}

const config = (filter: boolean) => JSON.stringify({ version: 3, api_key: "sk-test-stream-0123456789", filter });

/** The fake's clock: `performance.timeOrigin + performance.now()`. */
const clock = (): number => performance.timeOrigin + performance.now();

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** What the upstream was sent in a request, as one string. */
const sentText = (fake: FakeOpenAI, index: number): string => JSON.stringify(fake.requests[index]?.body.messages);

describe("chatStream over the API-key backend", () => {
  it("the first sentence arrives before the upstream has sent half of its events", async () => {
    const { fake, pool } = await setup({ reply: () => SAMPLE_REPLIES.zh, chunkDelayMs: 20 });
    const { sessionId } = await pool.create({ config: config(true) });
    let firstAt: number | undefined;
    const parts: ChatStreamPart[] = [];
    for await (const part of pool.chatStream({ sessionId, prompt: "晚上好" })) {
      if (part.type === "sentence") firstAt ??= clock();
      parts.push(part);
    }
    const times = fake.eventTimes[0] ?? [];
    expect(times.length).toBeGreaterThan(40);
    expect(firstAt).toBeDefined();
    expect(firstAt!).toBeLessThan(times[Math.floor(times.length / 2)]!);
    expect(parts[0]).toEqual({ type: "sentence", text: "大家晚上好！" });
    expect(parts.at(-1)).toEqual({ type: "done", reply: SAMPLE_REPLIES.zh });
  });

  const forms: ReasoningForm[] = ["reasoning_content", "reasoning", "think-tag"];
  it.each(forms)(
    "%s: no sentence, reply or later request holds the reasoning; Chat and ChatStream agree",
    async (form) => {
      const { fake, pool } = await setup({
        reply: () => SAMPLE_REPLIES.en,
        reasoning: { form, text: SAMPLE_REASONING.en },
      });
      for (const filter of [true, false]) {
        const { sessionId } = await pool.create({ config: config(filter) });
        const first = fake.requests.length;
        const chatted = await pool.chat({ sessionId, prompt: "hello" });
        const streamed = await collect(pool.chatStream({ sessionId, prompt: "hello" }));
        expect(chatted).toBe(filter ? filterReply(SAMPLE_REPLIES.en) : SAMPLE_REPLIES.en);
        expect(streamed.at(-1)).toEqual({ type: "done", reply: chatted });
        const sentences = streamed.flatMap((part) => (part.type === "sentence" ? [part.text] : []));
        expect(sentences.length).toBeGreaterThan(3);
        expect(sentences.join(" ")).not.toMatch(/viewer is greeting|think>/);
        // The history sent with the second request holds the first reply, never its reasoning.
        expect(sentText(fake, first + 1)).toContain("Good evening, everyone!");
        expect(sentText(fake, first + 1)).not.toMatch(/viewer is greeting|think>/);
      }
    },
  );

  it("a consumer that leaves mid-stream closes the upstream connection and stores nothing", async () => {
    const reply = (request: { body: { messages: { content: string }[] } }) =>
      request.body.messages.at(-1)?.content === "again" ? "Short." : SAMPLE_REPLIES.en;
    const { fake, pool } = await setup({ reply, chunkDelayMs: 20 });
    const { sessionId } = await pool.create({ config: config(true) });
    for await (const part of pool.chatStream({ sessionId, prompt: "hi" })) {
      expect(part).toEqual({ type: "sentence", text: "Good evening, everyone!" });
      break;
    }
    await fake.waitForAbort(2_000);
    expect(fake.abortedRequests).toBe(1);
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
    // The turn is free and the next request carries no trace of the abandoned reply.
    await pool.chat({ sessionId, prompt: "again" });
    expect(sentText(fake, 1)).not.toContain("Good evening");
  });

  it("a signal aborted mid-stream closes the upstream connection, throws Aborted, and stores nothing", async () => {
    const { fake, pool } = await setup({ reply: () => SAMPLE_REPLIES.en, chunkDelayMs: 20 });
    const { sessionId } = await pool.create({ config: config(true) });
    const client = new AbortController();
    const received: ChatStreamPart[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of pool.chatStream({ sessionId, prompt: "hi", signal: client.signal })) {
          received.push(part);
          client.abort();
        }
      })(),
    );
    expect(received).toHaveLength(1);
    expect(error.code).toBe(ErrorCode.Aborted);
    await fake.waitForAbort(2_000);
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
  });

  it("an upstream error event after the first sentence ends the stream with Upstream, and nothing is stored", async () => {
    const { fake, pool } = await setup({ reply: () => SAMPLE_REPLIES.en });
    const { sessionId } = await pool.create({ config: config(true) });
    fake.enqueueFault({ kind: "error-event", message: "overloaded" });
    const received: ChatStreamPart[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of pool.chatStream({ sessionId, prompt: "hi" })) received.push(part);
      })(),
    );
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((part) => part.type === "sentence")).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream reported an error: overloaded" });
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
  });
});
