import { create } from "@bufbuild/protobuf";
import { ChatbotError, SessionPool } from "@chatgptchatbot/core";
import { ChatbotService, NewSessionRequestSchema } from "@chatgptchatbot/proto";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { caught, ScriptedBackend, untilAborted } from "@chatgptchatbot/testkit/testing";
import { createChatbotService } from "./chatbot-service.js";
import { serverInterceptors } from "./interceptors.js";
import { RetryInfoSchema } from "./retry-info.js";

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** ChatbotService in memory over a pool of scripted backends, through the server's interceptors. */
function setup({ maxSessions = 10, apiKeyMs = 0, initialPrompt = "system" as "system" | "ask" } = {}) {
  const backend = new ScriptedBackend({ initialPrompt });
  const pool = new SessionPool({ backends: () => backend, maxSessions, sweepIntervalMs: 0, cooldown: { apiKeyMs, accessTokenMs: apiKeyMs } });
  pools.push(pool);
  const transport = createRouterTransport((router) => router.service(ChatbotService, createChatbotService({ pool })), {
    router: { interceptors: serverInterceptors({ logger: { debug() {}, info() {}, warn() {}, error() {} } }) },
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
    expect((ConnectError.from(await caught(client.chat({ sessionId: created.sessionId, prompt: "again" })))).code).toBe(Code.NotFound);
  });

  it("returns the reply to the initial prompt of an 'ask' backend", async () => {
    const { client } = setup({ initialPrompt: "ask" });
    const created = await client.newSession(create(NewSessionRequestSchema, { config: CONFIG, initialPrompt: "hi there" }));
    expect(created.initialResponse).toBe("echo: hi there");
  });

  it("answers INVALID_ARGUMENT for a missing or bad config, saying what is wrong", async () => {
    const { client } = setup();
    const empty = ConnectError.from(await caught(client.newSession({ config: "" })));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(empty.rawMessage).toBe("version & access_token|api_key is required: config is empty and the server has no default credential");
    const noKey = ConnectError.from(await caught(client.newSession({ config: '{"version": 3}' })));
    expect(noKey.code).toBe(Code.InvalidArgument);
    expect(noKey.rawMessage).toContain("config has no api_key");
    expect((ConnectError.from(await caught(client.newSession({ config: "{not json" })))).code).toBe(Code.InvalidArgument);
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
    expect((ConnectError.from(await caught(client.chat({ sessionId, prompt: "x" })))).code).toBe(Code.Unavailable);
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
    expect((ConnectError.from(await caught(client.chat({ sessionId: "", prompt: "x" })))).rawMessage).toBe("session_id is required");
    expect((ConnectError.from(await caught(client.chat({ sessionId, prompt: "" })))).code).toBe(Code.InvalidArgument);
    expect((ConnectError.from(await caught(client.chat({ sessionId: "nope", prompt: "x" })))).code).toBe(Code.NotFound);
    expect((ConnectError.from(await caught(client.deleteSession({ sessionId: "" })))).code).toBe(Code.InvalidArgument);
    expect((ConnectError.from(await caught(client.deleteSession({ sessionId: "nope" })))).code).toBe(Code.NotFound);
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
    const call = caught(client.chat({ sessionId, prompt: "slow" }, { signal: controller.signal })).then((e) => ConnectError.from(e));
    await expect.poll(() => upstreamSignal).toBeDefined();
    controller.abort();
    expect((await call).code).toBe(Code.Canceled);
    expect(upstreamSignal?.aborted).toBe(true);
  });
});
