import { create } from "@bufbuild/protobuf";
import { type AskPart, ChatbotError, type Logger, SessionPool } from "@chatgptchatbot/core";
import { ChatbotService, NewSessionRequestSchema } from "@chatgptchatbot/proto";
import {
  caught,
  deferred,
  recordingLogger,
  ScriptedBackend,
  untilAborted,
  upstreamDown,
} from "@chatgptchatbot/testkit/testing";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createChatbotService } from "./chatbot-service.js";
import { serverInterceptors } from "./interceptors.js";
import { RetryInfoSchema } from "./retry-info.js";

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** ChatbotService in memory over a pool of scripted backends, through the server's interceptors. */
function setup({
  maxSessions = 10,
  apiKeyMs = 0,
  initialPrompt = "system" as "system" | "ask",
  logger = { debug() {}, info() {}, warn() {}, error() {} } as Logger,
} = {}) {
  const backend = new ScriptedBackend({ initialPrompt });
  const pool = new SessionPool({
    backends: () => backend,
    maxSessions,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs, accessTokenMs: apiKeyMs },
  });
  pools.push(pool);
  const transport = createRouterTransport((router) => router.service(ChatbotService, createChatbotService({ pool })), {
    router: { interceptors: serverInterceptors({ logger }) },
  });
  return { backend, pool, client: createClient(ChatbotService, transport) };
}

const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-service-0001" });

describe("ChatbotService", () => {
  it("creates a session, chats in it and deletes it", async () => {
    const { client, backend } = setup();
    const created = await client.newSession({ config: CONFIG, initialPrompt: "You are a cat." });
    expect(created.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.initialResponse).toBe("");

    const chat = await client.chat({ sessionId: created.sessionId, prompt: "hello" });
    expect(chat.response).toBe("echo: hello");
    expect(backend.requests[0]?.systemPrompt).toBe("You are a cat.");
    expect(backend.requests[0]?.credential).toBe("sk-test-service-0001");

    const deleted = await client.deleteSession({ sessionId: created.sessionId });
    expect(deleted.sessionId).toBe(created.sessionId);
    expect(ConnectError.from(await caught(client.chat({ sessionId: created.sessionId, prompt: "again" }))).code).toBe(
      Code.NotFound,
    );
  });

  it("returns the reply to the initial prompt of an 'ask' backend", async () => {
    const { client } = setup({ initialPrompt: "ask" });
    const created = await client.newSession(
      create(NewSessionRequestSchema, { config: CONFIG, initialPrompt: "hi there" }),
    );
    expect(created.initialResponse).toBe("echo: hi there");
  });

  it("answers INVALID_ARGUMENT for a missing or bad config, saying what is wrong", async () => {
    const { client } = setup();
    const empty = ConnectError.from(await caught(client.newSession({ config: "" })));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(empty.rawMessage).toBe(
      "version & access_token|api_key is required: config is empty and the server has no default credential",
    );
    const noKey = ConnectError.from(await caught(client.newSession({ config: '{"version": 3}' })));
    expect(noKey.code).toBe(Code.InvalidArgument);
    expect(noKey.rawMessage).toContain("config has no api_key");
    expect(ConnectError.from(await caught(client.newSession({ config: "{not json" }))).code).toBe(Code.InvalidArgument);
  });

  it("answers RESOURCE_EXHAUSTED when the session limit is reached", async () => {
    const { client } = setup({ maxSessions: 1 });
    await client.newSession({ config: CONFIG });
    const full = ConnectError.from(await caught(client.newSession({ config: CONFIG })));
    expect(full.code).toBe(Code.ResourceExhausted);
    expect(full.rawMessage).toContain("limit of 1");
  });

  it("answers UNAVAILABLE when the backend fails on the initial prompt or a chat", async () => {
    const { client, backend } = setup({ initialPrompt: "ask" });
    backend.next(() => {
      throw ChatbotError.upstream("the upstream answered 500", { status: 500 });
    });
    const initial = ConnectError.from(await caught(client.newSession({ config: CONFIG, initialPrompt: "hi" })));
    expect(initial.code).toBe(Code.Unavailable);
    expect(initial.rawMessage).toBe("the upstream answered 500");

    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(() => {
      throw ChatbotError.upstream("the upstream is unreachable");
    });
    expect(ConnectError.from(await caught(client.chat({ sessionId, prompt: "x" }))).code).toBe(Code.Unavailable);
  });

  it("answers INTERNAL, never UNKNOWN, when a backend has a bug", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(() => {
      throw new TypeError("x is not a function");
    });
    const error = ConnectError.from(await caught(client.chat({ sessionId, prompt: "x" })));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error");
  });

  it("answers INVALID_ARGUMENT for an empty session_id or prompt, NOT_FOUND for an unknown session", async () => {
    const { client } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    expect(ConnectError.from(await caught(client.chat({ sessionId: "", prompt: "x" }))).rawMessage).toBe(
      "session_id is required",
    );
    expect(ConnectError.from(await caught(client.chat({ sessionId, prompt: "" }))).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(await caught(client.chat({ sessionId: "nope", prompt: "x" }))).code).toBe(Code.NotFound);
    expect(ConnectError.from(await caught(client.deleteSession({ sessionId: "" }))).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(await caught(client.deleteSession({ sessionId: "nope" }))).code).toBe(Code.NotFound);
  });

  it("answers RESOURCE_EXHAUSTED during cooldown, with the seconds in the message and a RetryInfo detail", async () => {
    const { client } = setup({ apiKeyMs: 15_000 });
    const { sessionId } = await client.newSession({ config: CONFIG });
    await client.chat({ sessionId, prompt: "one" });
    const error = ConnectError.from(await caught(client.chat({ sessionId, prompt: "two" })));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(/^cooling down: try again in (14|15) s$/);
    const [info] = error.findDetails(RetryInfoSchema) as { retryDelay?: { seconds: bigint } }[];
    expect(Number(info?.retryDelay?.seconds)).toBeGreaterThanOrEqual(14);
  });

  it("aborts the backend request when the client gives up", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    let upstreamSignal: AbortSignal | undefined;
    backend.next((request) => {
      upstreamSignal = request.signal;
      return untilAborted(request);
    });
    const controller = new AbortController();
    const call = caught(client.chat({ sessionId, prompt: "slow" }, { signal: controller.signal })).then((e) =>
      ConnectError.from(e),
    );
    await expect.poll(() => upstreamSignal).toBeDefined();
    controller.abort();
    expect((await call).code).toBe(Code.Canceled);
    expect(upstreamSignal?.aborted).toBe(true);
  });
});

/** Every message of a ChatStream call, as `sentence:` / `response:` lines. */
async function streamed(messages: AsyncIterable<{ sentence: string; response: string }>): Promise<string[]> {
  const got: string[] = [];
  for await (const m of messages) got.push(m.response !== "" ? `response: ${m.response}` : `sentence: ${m.sentence}`);
  return got;
}

/** Text parts as an upstream streams them, then `finish`. */
async function* parts(...texts: string[]): AsyncGenerator<AskPart> {
  for (const text of texts) yield { type: "text", text };
  yield { type: "finish" };
}

const REPLY = "Hello there, my friend. How are you today? I am fine!";

describe("ChatbotService.ChatStream", () => {
  it("streams a sentence per message, then the whole reply, which Chat returns too for the same answer", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(() => parts("Hello there, my fr", "iend. How are you to", "day? I am", " fine!"));
    expect(await streamed(client.chatStream({ sessionId, prompt: "hi" }))).toEqual([
      "sentence: Hello there, my friend.",
      "sentence: How are you today?",
      "sentence: I am fine!",
      `response: ${REPLY}`,
    ]);
    backend.next(() => parts(REPLY));
    expect((await client.chat({ sessionId, prompt: "hi" })).response).toBe(REPLY);
    // The streamed turn was stored like a chat's: the next request carries it.
    expect(backend.requests[1]?.history.map((h) => h.content)).toEqual(["hi", REPLY]);
  });

  it("sends each sentence before the upstream has written the rest", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    const rest = deferred<void>();
    backend.next(async function* () {
      yield { type: "text", text: "First sentence here. Sec" };
      await rest.promise;
      yield { type: "text", text: "ond one." };
      yield { type: "finish" };
    });
    const messages = client.chatStream({ sessionId, prompt: "hi" })[Symbol.asyncIterator]();
    expect((await messages.next()).value).toMatchObject({ sentence: "First sentence here.", response: "" });
    rest.resolve();
    expect((await messages.next()).value).toMatchObject({ sentence: "Second one.", response: "" });
    expect((await messages.next()).value).toMatchObject({ sentence: "", response: "First sentence here. Second one." });
    expect((await messages.next()).done).toBe(true);
  });

  it("fails before the first message with Chat's codes: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED with RetryInfo", async () => {
    const { client } = setup({ apiKeyMs: 15_000 });
    const { sessionId } = await client.newSession({ config: CONFIG });
    const code = async (request: { sessionId: string; prompt: string }) =>
      ConnectError.from(await caught(streamed(client.chatStream(request))));
    expect((await code({ sessionId: "", prompt: "x" })).rawMessage).toBe("session_id is required");
    expect((await code({ sessionId, prompt: "" })).code).toBe(Code.InvalidArgument);
    expect((await code({ sessionId: "nope", prompt: "x" })).code).toBe(Code.NotFound);
    expect(await streamed(client.chatStream({ sessionId, prompt: "one" }))).toEqual([
      "sentence: echo: one",
      "response: echo: one",
    ]);
    const cooling = await code({ sessionId, prompt: "two" });
    expect(cooling.code).toBe(Code.ResourceExhausted);
    expect(cooling.findDetails(RetryInfoSchema)).toHaveLength(1);
  });

  it("a stream counts once for the cooldown, however many messages it sends", async () => {
    const { client, backend } = setup({ apiKeyMs: 15_000 });
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(() => parts(REPLY));
    expect(await streamed(client.chatStream({ sessionId, prompt: "hi" }))).toHaveLength(4);
    expect(ConnectError.from(await caught(client.chat({ sessionId, prompt: "x" }))).code).toBe(Code.ResourceExhausted);
    expect(backend.requests).toHaveLength(1);
  });

  it("ends with UNAVAILABLE after the sentences already sent when the upstream fails mid-reply, and stores nothing", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(async function* () {
      yield { type: "text", text: "One sentence. And then" };
      throw upstreamDown();
    });
    const got: string[] = [];
    const error = ConnectError.from(
      await caught(
        (async () => {
          for await (const m of client.chatStream({ sessionId, prompt: "hi" })) got.push(m.sentence);
        })(),
      ),
    );
    expect(got).toEqual(["One sentence."]);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toBe("upstream answered 500: boom");
    await client.chat({ sessionId, prompt: "again" });
    expect(backend.requests[1]?.history).toEqual([]);
  });

  it("ends with INTERNAL, never UNKNOWN, when a backend has a bug mid-reply", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(async function* () {
      yield { type: "text", text: "One sentence. Two" };
      throw new TypeError("x is not a function");
    });
    const error = ConnectError.from(await caught(streamed(client.chatStream({ sessionId, prompt: "hi" }))));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error");
  });

  it("aborts the upstream request when the client cancels after the first message", async () => {
    const { client, backend } = setup();
    const { sessionId } = await client.newSession({ config: CONFIG });
    let upstreamSignal: AbortSignal | undefined;
    backend.next(async function* (request) {
      upstreamSignal = request.signal;
      yield { type: "text", text: "One sentence. Two" };
      await untilAborted(request);
    });
    const controller = new AbortController();
    const messages = client
      .chatStream({ sessionId, prompt: "hi" }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    expect((await messages.next()).value).toMatchObject({ sentence: "One sentence." });
    controller.abort();
    expect(ConnectError.from(await caught(messages.next())).code).toBe(Code.Canceled);
    await expect.poll(() => upstreamSignal?.aborted).toBe(true);
    // Nothing was stored: the next chat's request has no history.
    await client.chat({ sessionId, prompt: "again" });
    expect(backend.requests[1]?.history).toEqual([]);
  });

  it("logs one line per stream when it ends: session, message count and code", async () => {
    const logger = recordingLogger();
    const { client, backend } = setup({ logger });
    const { sessionId } = await client.newSession({ config: CONFIG });
    backend.next(() => parts(REPLY));
    await streamed(client.chatStream({ sessionId, prompt: "hi" }));
    backend.next(async function* () {
      yield { type: "text", text: "One sentence. Two" };
      throw upstreamDown();
    });
    await caught(streamed(client.chatStream({ sessionId, prompt: "hi" })));
    const lines = logger.lines.filter((l) => l.obj.rpc === "ChatbotService/ChatStream");
    expect(lines.map((l) => [l.level, l.obj.session, l.obj.messages, l.obj.code])).toEqual([
      ["info", sessionId.slice(0, 8), 4, "ok"],
      ["warn", sessionId.slice(0, 8), 1, "unavailable"],
    ]);
  });
});
