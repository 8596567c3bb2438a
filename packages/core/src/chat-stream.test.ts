import { deferred, rejection, ScriptedBackend, untilAborted, upstreamDown } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { AskPart, AskRequest } from "./backend.js";
import type { ChatStreamPart } from "./chat-stream.js";
import { ErrorCode } from "./errors.js";
import { filterReply } from "./reply-filter.js";
import { segmentText } from "./segmenter.js";
import { SessionPool, type SessionPoolOptions } from "./session-pool.js";

const V3 = (options: { filter?: boolean } = {}) =>
  JSON.stringify({ version: 3, api_key: "sk-test-stream", ...options });

const pools: SessionPool[] = [];
function makePool(backend: ScriptedBackend, options: Partial<SessionPoolOptions> = {}): SessionPool {
  const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, cooldown: { apiKeyMs: 0 }, ...options });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** A script streaming the given parts one by one, then `finish`. */
function parts(...items: AskPart[]): () => AsyncIterable<AskPart> {
  return async function* () {
    yield* items;
    yield { type: "finish" };
  };
}

const text = (t: string): AskPart => ({ type: "text", text: t });
const thought = (t: string): AskPart => ({ type: "reasoning", text: t });

/**
 * A chat stream held open mid-reply: its backend says "One. Two" and then
 * waits until its request is aborted, so the stream has given one sentence
 * and is still running.
 */
async function streamHeldMidReply(signal?: AbortSignal) {
  const backend = new ScriptedBackend().next(async function* (request: AskRequest) {
    yield text("One. Two");
    await untilAborted(request);
  });
  const pool = makePool(backend);
  const { sessionId } = await pool.create({ config: V3() });
  const stream = pool.chatStream({ sessionId, prompt: "hi", ...(signal ? { signal } : {}) })[Symbol.asyncIterator]();
  return { backend, pool, sessionId, stream };
}

describe("SessionPool.chatStream", () => {
  it("yields a sentence as soon as it is complete, before the backend has finished", async () => {
    const rest = deferred();
    const backend = new ScriptedBackend({
      script: async function* () {
        yield text("大家好！今天");
        await rest.promise; // the upstream is still writing
        yield text("我们聊聊天。");
        yield { type: "finish" };
      },
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3() });
    const stream = pool.chatStream({ sessionId, prompt: "hi" })[Symbol.asyncIterator]();
    expect(await stream.next()).toEqual({ done: false, value: { type: "sentence", text: "大家好！" } });
    rest.resolve();
    expect(await collect({ [Symbol.asyncIterator]: () => stream })).toEqual([
      { type: "sentence", text: "今天我们聊聊天。" },
      { type: "done", reply: "大家好！今天我们聊聊天。" },
    ]);
    expect((await pool.get(sessionId))!.historyLength).toBe(2);
  });

  it("gives the same reply as chat() for the same upstream answer, the sentences joined being that reply", async () => {
    const answer = "Good evening, everyone! Welcome back, 3.14 is pi… Dr. Lee says hi.\n- one\n- two";
    for (const filter of [false, true]) {
      const backend = new ScriptedBackend({ script: () => answer });
      const pool = makePool(backend);
      const { sessionId } = await pool.create({ config: V3({ filter }) });
      const chatted = await pool.chat({ sessionId, prompt: "a" });
      const streamed = await collect(pool.chatStream({ sessionId, prompt: "b" }));
      expect(streamed.at(-1)).toEqual({ type: "done", reply: chatted });
      expect(chatted).toBe(filter ? filterReply(answer) : answer);
      const sentences = streamed.slice(0, -1).map((part) => (part.type === "sentence" ? part.text : "not a sentence"));
      expect(sentences).toEqual(segmentText(answer, { filter }));
      expect(sentences.length).toBeGreaterThan(3);
    }
  });

  it("cleans sentences for speech when the session filters, and sends none with nothing to say", async () => {
    const backend = new ScriptedBackend({
      script: parts(text("**Hello** there! 😀\n"), text("🎉🎉\n"), text("Bye :)")),
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3({ filter: true }) });
    expect(await collect(pool.chatStream({ sessionId, prompt: "hi" }))).toEqual([
      { type: "sentence", text: "Hello there!" },
      { type: "sentence", text: "Bye" },
      { type: "done", reply: filterReply("**Hello** there! 😀\n🎉🎉\nBye :)") },
    ]);
  });

  it("never speaks, returns, stores or sends again the reasoning", async () => {
    const backend = new ScriptedBackend({
      script: parts(
        thought("The viewer greets me. "),
        text("Hi there! "),
        thought("SECRET plan."),
        text("Nice to see you."),
      ),
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3({ filter: false }) });
    const streamed = await collect(pool.chatStream({ sessionId, prompt: "hello" }));
    expect(streamed).toEqual([
      { type: "sentence", text: "Hi there!" },
      { type: "sentence", text: "Nice to see you." },
      { type: "done", reply: "Hi there! Nice to see you." },
    ]);
    expect(await pool.chat({ sessionId, prompt: "again" })).toBe("Hi there! Nice to see you.");
    const sentAgain = backend.requests[1]!.history.map((m) => m.content).join("\n");
    expect(sentAgain).toContain("Nice to see you.");
    expect(sentAgain).not.toMatch(/SECRET|viewer greets/);
  });

  it("throws before the first part exactly what chat() throws", async () => {
    let now = 1_000_000;
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { cooldown: { apiKeyMs: 10_000 }, now: () => now, limits: { promptChars: 10 } });
    const { sessionId } = await pool.create({ config: V3() });
    const first = (input: Parameters<SessionPool["chatStream"]>[0]) =>
      pool.chatStream(input)[Symbol.asyncIterator]().next();
    for (const input of [
      { sessionId: "", prompt: "hi" },
      { sessionId, prompt: "" },
      { sessionId, prompt: "much too long a prompt" },
      { sessionId: "no-such-session", prompt: "hi" },
      { sessionId, prompt: "hi", signal: AbortSignal.abort() },
    ]) {
      const streamed = await rejection(first(input));
      const chatted = await rejection(pool.chat(input));
      expect(streamed.code).toBe(chatted.code);
      expect(streamed.message).toBe(chatted.message);
    }
    expect(backend.requests).toHaveLength(0);
    // One stream takes the key once; while it cools down both are refused alike.
    expect((await collect(pool.chatStream({ sessionId, prompt: "hi" }))).at(-1)).toEqual({
      type: "done",
      reply: "echo: hi",
    });
    now += 5_000;
    const streamed = await rejection(first({ sessionId, prompt: "hi" }));
    const chatted = await rejection(pool.chat({ sessionId, prompt: "hi" }));
    expect(streamed).toMatchObject({ code: ErrorCode.Cooldown, retryAfterMs: 5_000 });
    expect(chatted).toMatchObject({ code: ErrorCode.Cooldown, retryAfterMs: 5_000 });
    now += 5_000;
    expect(await pool.chat({ sessionId, prompt: "later" })).toBe("echo: later");
    expect(backend.requests).toHaveLength(2);
  });

  it("an upstream failure after the first sentence is thrown mid-stream, and nothing is stored", async () => {
    const backend = new ScriptedBackend().next(async function* () {
      yield text("First sentence. Second");
      throw upstreamDown();
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3() });
    const received: ChatStreamPart[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of pool.chatStream({ sessionId, prompt: "hi" })) received.push(part);
      })(),
    );
    expect(received).toEqual([{ type: "sentence", text: "First sentence." }]);
    expect(error).toMatchObject({ code: ErrorCode.Upstream, upstreamStatus: 500 });
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
    expect(await pool.chat({ sessionId, prompt: "next" })).toBe("echo: next"); // the turn was released
    expect(backend.requests[1]!.history).toEqual([]);
  });

  it("a reply stream that ends without its finish is an upstream failure, nothing stored", async () => {
    const backend = new ScriptedBackend().next(async function* () {
      yield text("Cut short. In the mid");
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3() });
    const error = await rejection(collect(pool.chatStream({ sessionId, prompt: "hi" })));
    expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream reply ended early" });
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
    expect(await pool.chat({ sessionId, prompt: "after" })).toBe("echo: after");
    expect(backend.requests[1]!.history).toEqual([]);
  });

  it("a consumer that stops iterating aborts the upstream request, stores nothing and frees the turn", async () => {
    let upstreamClosed = false;
    let upstreamSignal: AbortSignal | undefined;
    const backend = new ScriptedBackend().next(async function* (request: AskRequest) {
      upstreamSignal = request.signal;
      try {
        yield text("One. Two. ");
        await new Promise(() => {}); // never reached: the consumer leaves at "One."
      } finally {
        upstreamClosed = true;
      }
    });
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3() });
    for await (const part of pool.chatStream({ sessionId, prompt: "hi" })) {
      expect(part).toEqual({ type: "sentence", text: "One." });
      break;
    }
    expect(upstreamClosed).toBe(true);
    expect(upstreamSignal?.aborted).toBe(true);
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
    expect(await pool.chat({ sessionId, prompt: "next" })).toBe("echo: next");
    expect(backend.requests[1]!.history).toEqual([]);
  });

  it("a signal that aborts mid-stream aborts the upstream request and throws Aborted; nothing is stored", async () => {
    const client = new AbortController();
    const { backend, pool, sessionId, stream } = await streamHeldMidReply(client.signal);
    expect((await stream.next()).value).toEqual({ type: "sentence", text: "One." });
    const pending = rejection(stream.next());
    client.abort();
    expect((await pending).code).toBe(ErrorCode.Aborted);
    expect(backend.requests[0]!.signal.aborted).toBe(true);
    expect((await pool.get(sessionId))!.historyLength).toBe(0);
  });

  it("a signal that aborts while the consumer no longer pulls releases the session's turn (a client that just left)", async () => {
    const client = new AbortController();
    const { backend, pool, sessionId, stream } = await streamHeldMidReply(client.signal);
    expect((await stream.next()).value).toEqual({ type: "sentence", text: "One." });
    client.abort(); // and never calls next() or return() again
    expect(backend.requests[0]!.signal.aborted).toBe(true);
    expect(await pool.chat({ sessionId, prompt: "next" })).toBe("echo: next");
    expect(backend.requests[1]!.history).toEqual([]);
  });

  it("a session deleted mid-stream fails the stream with SessionNotFound and stays deleted", async () => {
    const { pool, sessionId, stream } = await streamHeldMidReply();
    await stream.next();
    const pending = rejection(stream.next());
    await pool.delete(sessionId);
    expect((await pending).code).toBe(ErrorCode.SessionNotFound);
    expect(await pool.get(sessionId)).toBeUndefined();
  });

  it("releases the session's turn once the reply is stored, before the consumer takes `done`", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3() });
    const stream = pool.chatStream({ sessionId, prompt: "first." })[Symbol.asyncIterator]();
    expect((await stream.next()).value).toEqual({ type: "sentence", text: "echo: first." });
    // The consumer is slow to take `done`: a chat behind it still gets its turn once the reply is stored.
    const behind = pool.chat({ sessionId, prompt: "second" });
    expect((await stream.next()).value).toEqual({ type: "done", reply: "echo: first." });
    expect(await behind).toBe("echo: second");
    expect((await stream.next()).done).toBe(true);
    expect((await pool.get(sessionId))!.historyLength).toBe(4);
  });

  it("cuts sentences by the pool's segment settings, checked at construction", async () => {
    const run = "one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve";
    const backend = new ScriptedBackend({ script: () => run });
    const pool = makePool(backend, { segments: { firstMinLength: 200, maxLength: 40 } });
    const { sessionId } = await pool.create({ config: V3({ filter: false }) });
    const sentences = (await collect(pool.chatStream({ sessionId, prompt: "count" }))).filter(
      (p) => p.type === "sentence",
    );
    expect(sentences.length).toBeGreaterThan(1);
    for (const sentence of sentences)
      expect(sentence.type === "sentence" && sentence.text.length).toBeLessThanOrEqual(40);
    expect(() => new SessionPool({ backends: () => backend, sweepIntervalMs: 0, segments: { maxLength: 10 } })).toThrow(
      RangeError,
    );
  });
});
