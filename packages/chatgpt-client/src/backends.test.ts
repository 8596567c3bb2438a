import { setTimeout as delay } from "node:timers/promises";
import {
  ChatbotError,
  ErrorCode,
  filterReply,
  loadTokenCounter,
  MESSAGE_OVERHEAD_TOKENS,
  SessionPool,
  type SessionPoolOptions,
} from "@chatgptchatbot/core";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import {
  ACCESS_TOKEN,
  API_KEY,
  closeAfterEach,
  nextMacrotask,
  recordingLogger,
  rejection,
  sessionConfig,
  startConnectionCounter,
  startScriptedServer,
} from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { type Backends, type BackendsOptions, createBackends } from "./backends.js";
import { ChatGPTWebBackend } from "./chatgpt-web/chatgpt-web-backend.js";
import { OpenAIBackend } from "./openai/openai-backend.js";

const cleanup = closeAfterEach();

async function fakeOpenAI(options?: Parameters<typeof startFakeOpenAI>[0]): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI(options);
  cleanup.push(() => fake.close());
  return fake;
}

async function fakeWeb(options?: Parameters<typeof startFakeChatGPTWeb>[0]): Promise<FakeChatGPTWeb> {
  const fake = await startFakeChatGPTWeb(options);
  cleanup.push(() => fake.close());
  return fake;
}

function backends(options: BackendsOptions): Backends {
  const built = createBackends({ sleep: async () => {}, ...options });
  cleanup.push(() => built.close());
  return built;
}

function pool(built: Backends, options: Partial<SessionPoolOptions> = {}): SessionPool {
  const instance = new SessionPool({
    backends: built.resolve,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
    ...options,
  });
  cleanup.push(() => instance.close());
  return instance;
}

const v3 = (extra: object = {}) => JSON.stringify({ version: 3, api_key: API_KEY, ...extra });
const v1 = (extra: object = {}) => JSON.stringify({ version: 1, access_token: ACCESS_TOKEN, ...extra });

describe("createBackends", () => {
  it("resolves version 3 to the API-key backend and version 1 to the access-token backend", () => {
    const built = backends({ chatgptBaseUrl: "http://127.0.0.1:9/api" });
    expect(built.resolve(sessionConfig())).toBeInstanceOf(OpenAIBackend);
    expect(built.resolve(sessionConfig({ kind: "access-token", version: 1 }))).toBeInstanceOf(ChatGPTWebBackend);
    expect(built.resolve(sessionConfig())).toBe(built.openai); // built once, not per call
  });

  it("refuses a version-1 session when neither it nor the server names a base URL", () => {
    const built = backends({});
    expect(() => built.resolve(sessionConfig({ kind: "access-token", version: 1 }))).toThrow(ChatbotError);
    expect(() => built.resolve(sessionConfig({ kind: "access-token", version: 1 }))).toThrow(/base_url/);
    expect(built.resolve(sessionConfig({ kind: "access-token", version: 1, baseUrl: "http://127.0.0.1:9/api" }))).toBe(
      built.chatgptWeb,
    );
  });

  it("validates its options", () => {
    expect(() => createBackends({ requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => createBackends({ maxRetries: -1 })).toThrow(RangeError);
    expect(() => createBackends({ apiUrl: "ftp://x" })).toThrow(TypeError);
    expect(() => createBackends({ proxyEnv: { HTTPS_PROXY: "socks5://127.0.0.1:1080" } })).toThrow(/HTTPS_PROXY/);
  });

  it("takes the endpoint, the default model and the retries as options", async () => {
    const fake = await fakeOpenAI();
    const built = createBackends({ apiUrl: `${fake.url}/chat/completions`, model: "from-env-model", maxRetries: 0 });
    cleanup.push(() => built.close());
    fake.enqueueFault({ kind: "status", status: 500 });
    const sessions = pool(built);
    const { sessionId } = await sessions.create({ config: v3() });
    await expect(sessions.chat({ sessionId, prompt: "hi" })).rejects.toMatchObject({ code: ErrorCode.Upstream });
    expect(fake.requests).toHaveLength(1); // maxRetries: 0
    expect(await sessions.chat({ sessionId, prompt: "hi" })).toBe("echo: hi");
    expect(fake.requests[1]!.body.model).toBe("from-env-model");
  });

  it("close() is idempotent; later requests fail at once as Upstream, without retries", async () => {
    const fake = await fakeOpenAI();
    const web = await fakeWeb();
    const delays: number[] = [];
    const built = createBackends({
      apiUrl: fake.url,
      chatgptBaseUrl: web.url,
      sleep: async (ms) => void delays.push(ms),
    });
    await Promise.all([built.close(), built.close()]);
    const sessions = pool(built);
    const { sessionId } = await sessions.create({ config: v3() });
    await expect(sessions.chat({ sessionId, prompt: "hi" })).rejects.toMatchObject({
      code: ErrorCode.Upstream,
      message: "the upstream client is closed (the server is shutting down)",
    });
    await expect(sessions.create({ config: v1(), initialPrompt: "hi" })).rejects.toMatchObject({
      code: ErrorCode.Upstream,
      message: "the upstream client is closed (the server is shutting down)",
    });
    expect(delays).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("treats empty settings as unset", async () => {
    const built = backends({ apiUrl: "", chatgptBaseUrl: " ", model: "" });
    expect(() => built.resolve(sessionConfig({ kind: "access-token", version: 1 }))).toThrow(/base_url/);
  });
});

describe("SessionPool with the API-key backend (end to end)", () => {
  it("sends the initial prompt as system prompt and the multi-turn history exactly", async () => {
    const fake = await fakeOpenAI();
    const sessions = pool(backends({ apiUrl: fake.url }));
    const { sessionId, initialResponse } = await sessions.create({
      config: v3({ filter: false }),
      initialPrompt: "You are Mimi.",
    });
    expect(initialResponse).toBe("");
    expect(fake.requests).toHaveLength(0); // nothing asked at creation

    expect(await sessions.chat({ sessionId, prompt: "first" })).toBe("echo: first");
    expect(await sessions.chat({ sessionId, prompt: "second" })).toBe("echo: second");
    expect(await sessions.chat({ sessionId, prompt: "third" })).toBe("echo: third");
    expect(fake.requests.map((r) => r.body.messages)).toEqual([
      [
        { role: "system", content: "You are Mimi." },
        { role: "user", content: "first" },
      ],
      [
        { role: "system", content: "You are Mimi." },
        { role: "user", content: "first" },
        { role: "assistant", content: "echo: first" },
        { role: "user", content: "second" },
      ],
      [
        { role: "system", content: "You are Mimi." },
        { role: "user", content: "first" },
        { role: "assistant", content: "echo: first" },
        { role: "user", content: "second" },
        { role: "assistant", content: "echo: second" },
        { role: "user", content: "third" },
      ],
    ]);
  });

  it("trims the history to the session's token budget, whole turns, oldest first", async () => {
    const fake = await fakeOpenAI();
    const sessions = pool(backends({ apiUrl: fake.url }));
    const budget = 120;
    const system = "You are Mimi, a cheerful streamer.";
    const { sessionId } = await sessions.create({
      config: v3({ max_tokens: budget, filter: false }),
      initialPrompt: system,
    });
    const prompts = Array.from(
      { length: 8 },
      (_, i) => `comment number ${i + 1} from the chat about the weather today`,
    );
    for (const prompt of prompts) await sessions.chat({ sessionId, prompt });

    const count = await loadTokenCounter(undefined);
    const cost = (content: string) => count(content) + MESSAGE_OVERHEAD_TOKENS;
    const turns = prompts.map((prompt) => [
      { role: "user", content: prompt },
      { role: "assistant", content: `echo: ${prompt}` },
    ]);
    let trimmed = 0;
    for (const [i, request] of fake.requests.entries()) {
      const messages = request.body.messages as { role: string; content: string }[];
      expect(messages[0]).toEqual({ role: "system", content: system });
      expect(messages.at(-1)).toEqual({ role: "user", content: prompts[i] });
      const sent = messages.slice(1, -1);
      // The history sent is the newest whole turns before this one…
      const kept = sent.length / 2;
      expect(Number.isInteger(kept)).toBe(true);
      expect(sent).toEqual(turns.slice(i - kept, i).flat());
      // …as many as fit the budget, and not one more.
      const fixed = cost(system) + cost(prompts[i]!) + 3;
      const used = fixed + sent.reduce((sum, m) => sum + cost(m.content), 0);
      expect(used).toBeLessThanOrEqual(budget);
      if (kept < i) {
        trimmed++;
        const older = turns[i - kept - 1]!;
        expect(used + cost(older[0]!.content) + cost(older[1]!.content)).toBeGreaterThan(budget);
      }
    }
    expect(trimmed).toBeGreaterThan(0); // the budget did bite
  });

  it("applies the reply filter (on by default for version 3), and not when the session turns it off", async () => {
    const raw = "Hello 😀 everyone :) see you at 10:30 ✨";
    const fake = await fakeOpenAI({ reply: () => raw });
    const sessions = pool(backends({ apiUrl: fake.url }));
    const filtered = await sessions.create({ config: v3() });
    const unfiltered = await sessions.create({ config: v3({ filter: false }) });
    const reply = await sessions.chat({ sessionId: filtered.sessionId, prompt: "hi" });
    expect(reply).toBe(filterReply(raw));
    expect(reply).toBe("Hello everyone see you at 10:30");
    expect(await sessions.chat({ sessionId: unfiltered.sessionId, prompt: "hi" })).toBe(raw);
  });

  it("reuses one keep-alive connection for many requests", async () => {
    const fake = await fakeOpenAI();
    const counter = await startConnectionCounter(fake.origin);
    cleanup.push(() => counter.close());
    const sessions = pool(backends({ apiUrl: `${counter.origin}/v1` }));
    const { sessionId } = await sessions.create({ config: v3() });
    for (let i = 0; i < 5; i++) {
      await sessions.chat({ sessionId, prompt: `hi ${i}` });
      await nextMacrotask(); // undici returns a finished connection to its pool a tick after the reply ends
    }
    expect(fake.requests).toHaveLength(5);
    expect(counter.connections()).toBe(1);
  });

  it("a chat whose caller gives up is Aborted and closes the upstream connection", async () => {
    const fake = await fakeOpenAI({ chunkDelayMs: 300 });
    const sessions = pool(backends({ apiUrl: fake.url }));
    const { sessionId } = await sessions.create({ config: v3() });
    const controller = new AbortController();
    const pending = rejection(
      sessions.chat({ sessionId, prompt: "one two three four five", signal: controller.signal }),
    );
    while (fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect((await pending).code).toBe(ErrorCode.Aborted);
    await fake.waitForAbort(2000);
  });

  it("logs upstream failures with the key masked, never in clear", async () => {
    const fake = await fakeOpenAI();
    const logger = recordingLogger();
    const sessions = pool(backends({ apiUrl: fake.url, logger, maxRetries: 1 }));
    const { sessionId } = await sessions.create({ config: v3() });
    fake.enqueueFault({ kind: "status", status: 500, message: `boom for ${API_KEY}` }, { kind: "status", status: 401 });
    const error = await rejection(sessions.chat({ sessionId, prompt: "hi" }));
    expect(error.message).not.toContain(API_KEY);
    expect(logger.lines.map((l) => l.msg)).toEqual(["upstream request failed, retrying", "upstream request failed"]);
    expect(logger.text()).not.toContain(API_KEY);
    expect(logger.text()).toContain("sk-te…ab12");
  });
});

describe("SessionPool with the access-token backend (end to end)", () => {
  it("asks the initial prompt at creation, returns its reply, and continues that conversation", async () => {
    const fake = await fakeWeb();
    const sessions = pool(backends({ chatgptBaseUrl: fake.url }));
    const { sessionId, initialResponse } = await sessions.create({
      config: v1(),
      initialPrompt: "You are Mimi. Say hi.",
    });
    expect(initialResponse).toBe("echo: You are Mimi. Say hi.");
    expect(await sessions.chat({ sessionId, prompt: "how are you" })).toBe("echo: how are you");
    expect(fake.conversations.size).toBe(1);
    const [thread] = [...fake.conversations.values()];
    expect(thread!.messages.filter((m) => m.role === "user").map((m) => m.text)).toEqual([
      "You are Mimi. Say hi.",
      "how are you",
    ]);
  });

  it("a renew starts a new conversation and asks the initial prompt again", async () => {
    const fake = await fakeWeb();
    let now = 1_000_000;
    const sessions = pool(backends({ chatgptBaseUrl: fake.url }), { renewIntervalMs: 60_000, now: () => now });
    const { sessionId } = await sessions.create({ config: v1(), initialPrompt: "Be Mimi." });
    await sessions.chat({ sessionId, prompt: "before" });
    now += 61_000;
    const report = await sessions.sweep();
    expect(report.renewed).toEqual([sessionId]);
    expect(await sessions.chat({ sessionId, prompt: "after" })).toBe("echo: after"); // queued behind the renewal
    expect(fake.conversations.size).toBe(2);
    const [oldThread, newThread] = [...fake.conversations.values()];
    expect(oldThread!.messages.filter((m) => m.role === "user").map((m) => m.text)).toEqual(["Be Mimi.", "before"]);
    expect(newThread!.messages.filter((m) => m.role === "user").map((m) => m.text)).toEqual(["Be Mimi.", "after"]);
    expect(fake.requests[2]!.body).not.toHaveProperty("conversation_id");
  });

  it("uses the session's own base_url when the server has none", async () => {
    const fake = await fakeWeb();
    const sessions = pool(backends({}));
    const { sessionId, initialResponse } = await sessions.create({
      config: v1({ base_url: fake.url }),
      initialPrompt: "hi",
    });
    expect(initialResponse).toBe("echo: hi");
    expect(await sessions.chat({ sessionId, prompt: "yo" })).toBe("echo: yo");
  });

  it("NewSession fails with InvalidArgument, sending nothing, when no base URL is known", async () => {
    const fake = await fakeWeb();
    const sessions = pool(backends({}));
    const error = await rejection(sessions.create({ config: v1(), initialPrompt: "hi" }));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(fake.requests).toHaveLength(0);
    expect(await sessions.size()).toBe(0);
  });

  it("an upstream error at creation fails NewSession with Upstream, the token absent", async () => {
    const fake = await fakeWeb();
    const sessions = pool(backends({ chatgptBaseUrl: fake.url }));
    fake.enqueueFault({ kind: "status", status: 403, message: `bad token ${ACCESS_TOKEN}` });
    const error = await rejection(sessions.create({ config: v1(), initialPrompt: "hi" }));
    expect(error).toMatchObject({ code: ErrorCode.Upstream, upstreamStatus: 403 });
    expect(error.message).not.toContain(ACCESS_TOKEN);
  });

  it("reuses one keep-alive connection across turns", async () => {
    const fake = await fakeWeb();
    const counter = await startConnectionCounter(fake.origin);
    cleanup.push(() => counter.close());
    const sessions = pool(backends({ chatgptBaseUrl: `${counter.origin}/backend-api` }));
    const { sessionId } = await sessions.create({ config: v1(), initialPrompt: "hi" });
    await nextMacrotask();
    for (let i = 0; i < 4; i++) {
      await sessions.chat({ sessionId, prompt: `turn ${i}` });
      await nextMacrotask();
    }
    expect(fake.requests).toHaveLength(5);
    expect(counter.connections()).toBe(1);
  });
});

describe("keep-alive when the reply's end trails its last event", () => {
  // Real upstreams often send `data: [DONE]` and the end of the chunked body in separate packets. A client that
  // stops reading at [DONE] must finish the body rather than drop the connection, or no connection is ever reused.
  const sse = (events: object[]) => `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")}data: [DONE]\n\n`;

  /** Waits (on events, not time) until the server has ended `count` replies and their connection is idle. */
  async function replies(ended: () => number, count: number): Promise<void> {
    while (ended() < count) await nextMacrotask();
    await nextMacrotask();
  }

  it("API-key backend", async () => {
    let ended = 0;
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.on("close", () => ended++);
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(
        sse([
          {
            id: "c",
            object: "chat.completion.chunk",
            created: 0,
            model: "m",
            choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }],
          },
        ]),
      );
      void delay(20).then(() => res.end());
    });
    cleanup.push(() => server.close());
    const built = backends({ apiUrl: `${server.origin}/v1` });
    const sessions = pool(built);
    const { sessionId } = await sessions.create({ config: v3() });
    for (let i = 0; i < 3; i++) {
      expect(await sessions.chat({ sessionId, prompt: "x" })).toBe("hi");
      await replies(() => ended, i + 1);
    }
    expect(server.connections()).toBe(1);
  });

  it("access-token backend", async () => {
    let turn = 0;
    let ended = 0;
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.on("close", () => ended++);
      turn++;
      res.writeHead(200, { "content-type": "text/event-stream" });
      const message = {
        id: `m${turn}`,
        author: { role: "assistant" },
        content: { content_type: "text", parts: ["hi"] },
        status: "finished_successfully",
      };
      res.write(sse([{ message, conversation_id: "c1", error: null }]));
      void delay(20).then(() => res.end());
    });
    cleanup.push(() => server.close());
    const sessions = pool(backends({ chatgptBaseUrl: server.origin }));
    const { sessionId } = await sessions.create({ config: v1(), initialPrompt: "hello" });
    for (let i = 0; i < 2; i++) {
      await replies(() => ended, i + 1);
      expect(await sessions.chat({ sessionId, prompt: "x" })).toBe("hi");
    }
    expect(server.connections()).toBe(1);
  });
});
