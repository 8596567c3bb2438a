import { readServerSentEvents } from "@chatgptchatbot/chatgpt-client";
import { type AskPart, ChatbotError, maskSecret, SessionPool } from "@chatgptchatbot/core";
import {
  deferred,
  recordingLogger,
  ScriptedBackend,
  untilAborted,
  upstreamDown,
} from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHttpApp } from "./app.js";
import { DefaultSession } from "./default-session.js";

const SERVER_KEY = "sk-test-server-default-key-0001";
const NEW_TOKEN = "eyJ-test-access-token-rotated-0002";
const NEW_KEY = "sk-test-renewed-api-key-0003";

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function setup({
  apiKeys = [SERVER_KEY],
  cooldownMs = 0,
  maxSessions = 10,
  bodyLimitBytes,
  now,
}: {
  apiKeys?: string[];
  cooldownMs?: number;
  maxSessions?: number;
  bodyLimitBytes?: number;
  now?: () => number;
} = {}) {
  const backend = new ScriptedBackend();
  const logger = recordingLogger();
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    maxSessions,
    cooldown: { apiKeyMs: cooldownMs, accessTokenMs: cooldownMs },
    configDefaults: { apiKeys },
    logger,
    ...(now === undefined ? {} : { now }),
  });
  pools.push(pool);
  const defaultSession = new DefaultSession({ pool, logger });
  const app = createHttpApp({
    pool,
    logger,
    defaultSession,
    ...(bodyLimitBytes === undefined ? {} : { bodyLimitBytes }),
  });
  return { app, pool, backend, logger, defaultSession };
}

type App = ReturnType<typeof setup>["app"];

async function post(app: App, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return app.request(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

async function expectText(res: Response, status: number, text: string | RegExp): Promise<void> {
  const body = await res.text();
  expect({ status: res.status, body }).toEqual({
    status,
    body: typeof text === "string" ? text : expect.stringMatching(text),
  });
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
}

describe("GET /healthz", () => {
  it("answers 200 ok", async () => {
    const { app } = setup();
    await expectText(await app.request("/healthz"), 200, "ok");
  });

  it("answers HEAD too", async () => {
    const { app } = setup();
    const res = await app.request("/healthz", { method: "HEAD" });
    expect(res.status).toBe(200);
  });

  it("answers 503 while ready() is false, and 200 again once it is true", async () => {
    const { pool } = setup();
    let ready = false;
    const app = createHttpApp({ pool, ready: () => ready });
    await expectText(await app.request("/healthz"), 503, "session store unavailable");
    ready = true;
    await expectText(await app.request("/healthz"), 200, "ok");
  });
});

describe("POST /ask", () => {
  it("answers 200 text/plain with the reply, from the server's default credential", async () => {
    const { app, backend } = setup();
    await expectText(await post(app, "/ask", { prompt: "你好" }), 200, "echo: 你好");
    expect(backend.requests.map((r) => r.credential)).toEqual([SERVER_KEY]);
  });

  it("reads the body as JSON whatever its content type, like curl -d", async () => {
    const { app } = setup();
    const res = await post(app, "/ask", '{"prompt": "hi"}', {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectText(res, 200, "echo: hi");
  });

  it("keeps the conversation: the second ask carries the first turn", async () => {
    const { app, backend } = setup();
    await post(app, "/ask", { prompt: "one" });
    await post(app, "/ask", { prompt: "two" });
    expect(backend.requests[1]?.history.map((m) => m.content)).toEqual(["one", "echo: one"]);
  });

  it.each([
    ["not JSON", "prompt=hi", "the request body is not valid JSON"],
    ["empty", "", "the request body is empty: send a JSON object"],
    ["a JSON array", "[1]", "the request body must be a JSON object"],
    ["JSON null", "null", "the request body must be a JSON object"],
    ["without prompt", "{}", "prompt is required"],
    ["with a null prompt", '{"prompt": null}', "prompt is required"],
    ["with a number prompt", '{"prompt": 42}', "prompt must be a string"],
    ["with an object prompt", '{"prompt": {"text": "hi"}}', "prompt must be a string"],
    ["with a blank prompt", '{"prompt": "   "}', "prompt is required"],
  ])("answers 400 to a body %s", async (_name, body, message) => {
    const { app, backend } = setup();
    await expectText(await post(app, "/ask", body), 400, message);
    expect(backend.requests).toHaveLength(0);
  });

  it("answers 413 to a body over the limit (Content-Length)", async () => {
    const { app, backend } = setup({ bodyLimitBytes: 64 });
    const res = await post(app, "/ask", { prompt: "x".repeat(100) });
    await expectText(res, 413, "the request body is larger than 64 bytes");
    expect(backend.requests).toHaveLength(0);
  });

  it("answers 413 to a chunked body over the limit (no Content-Length)", async () => {
    const { app, backend } = setup({ bodyLimitBytes: 64 });
    const chunk = new TextEncoder().encode(`{"prompt": "${"x".repeat(40)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await app.request("/ask", { method: "POST", body, duplex: "half" } as RequestInit);
    await expectText(res, 413, "the request body is larger than 64 bytes");
    expect(backend.requests).toHaveLength(0);
  });

  it("accepts a body exactly at the limit", async () => {
    const body = JSON.stringify({ prompt: "y".repeat(20) });
    const { app } = setup({ bodyLimitBytes: Buffer.byteLength(body) });
    await expectText(await post(app, "/ask", body), 200, `echo: ${"y".repeat(20)}`);
  });

  it("answers 429 with Retry-After while the credential cools down", async () => {
    const { app } = setup({ cooldownMs: 15_000, now: () => 1_000_000 });
    await expectText(await post(app, "/ask", { prompt: "first" }), 200, "echo: first");
    const res = await post(app, "/ask", { prompt: "second" });
    expect(res.headers.get("retry-after")).toBe("15");
    await expectText(res, 429, "cooling down: try again in 15 s");
  });

  it.each([
    ["a bad answer (500)", { status: 500 }, 502, null],
    ["a refused key (401)", { status: 401 }, 502, null],
    ["an overload (503)", { status: 503 }, 503, null],
    ["a rate limit with a wait (429)", { status: 429, retryAfterMs: 20_000 }, 503, "20"],
    ["no answer at all", {}, 503, null],
  ] as const)("answers %s from the upstream with %i", async (_name, details, status, retryAfter) => {
    const { app, backend, logger } = setup();
    backend.script = () => {
      throw ChatbotError.upstream("upstream failed: the model service said no", details);
    };
    const res = await post(app, "/ask", { prompt: "hi" });
    expect(res.headers.get("retry-after")).toBe(retryAfter);
    await expectText(res, status, "upstream failed: the model service said no");
    expect(logger.lines.some((l) => l.level === "warn" && l.msg === "upstream failed")).toBe(true);
  });

  it("answers 500 with a generic message only for a real bug, and logs it", async () => {
    const { app, backend, logger } = setup();
    backend.script = () => {
      throw new TypeError("cannot read properties of undefined (secret internals)");
    };
    await expectText(await post(app, "/ask", { prompt: "hi" }), 500, "internal error");
    const line = logger.lines.find((l) => l.msg === "internal error");
    expect(line?.level).toBe("error");
    expect(line?.obj.err).toBeInstanceOf(TypeError);
  });

  it("answers 503 telling the operator to POST /renew when there is no credential yet", async () => {
    const { app, backend } = setup({ apiKeys: [] });
    const res = await post(app, "/ask", { prompt: "hi" });
    await expectText(res, 503, /^no credential: .*POST \/renew \{"access_token": "\.\.\."\}/);
    expect(backend.requests).toHaveLength(0);

    await expectText(await post(app, "/renew", { api_key: NEW_KEY, version: 3 }), 200, "ok");
    await expectText(await post(app, "/ask", { prompt: "hi" }), 200, "echo: hi");
    expect(backend.requests.map((r) => r.credential)).toEqual([NEW_KEY]);
  });

  it("answers 429 when the pool is full and the default session cannot be created", async () => {
    const { app, pool } = setup({ maxSessions: 1 });
    await pool.create({ config: JSON.stringify({ version: 3, api_key: "sk-test-someone-else-0004" }) });
    const res = await post(app, "/ask", { prompt: "hi" });
    expect(res.headers.get("retry-after")).toBeNull();
    await expectText(res, 429, /^too many sessions/);
  });

  it("answers 499 with no body when the client goes away, and cancels the upstream call", async () => {
    const { app, backend } = setup();
    const started = deferred();
    backend.script = (request) => {
      started.resolve();
      return untilAborted(request);
    };
    const client = new AbortController();
    const pending = post(app, "/ask", { prompt: "hi" }, { signal: client.signal });
    await started.promise;
    client.abort();
    const res = await pending;
    expect(res.status).toBe(499);
    expect(await res.text()).toBe("");
    expect(backend.requests[0]?.signal.aborted).toBe(true);
  });

  it("recreates an evicted default session transparently", async () => {
    const { app, pool, defaultSession } = setup();
    await post(app, "/ask", { prompt: "one" });
    const first = defaultSession.sessionId;
    expect(first).toBeDefined();
    await pool.delete(first!); // as an eviction would
    await expectText(await post(app, "/ask", { prompt: "two" }), 200, "echo: two");
    expect(defaultSession.sessionId).not.toBe(first);
    expect(await pool.size()).toBe(1);
  });
});

const SSE = { headers: { accept: "text/event-stream" } };

/** The events of an SSE answer, as `event: data` lines. */
async function sseLines(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const got: string[] = [];
  for await (const { event, data } of readServerSentEvents(res.body!)) got.push(`${event}: ${data}`);
  return got;
}

describe("POST /ask with Accept: text/event-stream", () => {
  it("answers each sentence as an event, then done with the whole reply (what a plain ask answers), and stores the turn", async () => {
    const { app, backend } = setup();
    backend.script = () => "你好！今天天气不错。\nLine two.";
    expect(await sseLines(await post(app, "/ask", { prompt: "hi" }, SSE))).toEqual([
      "sentence: 你好！",
      "sentence: 今天天气不错。",
      "sentence: Line two.",
      "done: 你好！今天天气不错。\nLine two.",
    ]);
    await expectText(await post(app, "/ask", { prompt: "again" }), 200, "你好！今天天气不错。\nLine two.");
    expect(backend.requests[1]?.history.map((h) => h.content)).toEqual(["hi", "你好！今天天气不错。\nLine two."]);
  });

  it("writes a multi-line reply on several data: lines", async () => {
    const { app, backend } = setup();
    backend.script = () => "One.\nTwo.";
    const raw = await (await post(app, "/ask", { prompt: "hi" }, SSE)).text();
    expect(raw).toBe(
      "event: sentence\ndata: One.\n\nevent: sentence\ndata: Two.\n\nevent: done\ndata: One.\ndata: Two.\n\n",
    );
  });

  it("keeps today's statuses for failures before the first event: 400, 429 with Retry-After, 502, 503", async () => {
    const { app, backend } = setup({ cooldownMs: 15_000, now: () => 1_000_000 });
    await expectText(await post(app, "/ask", { prompt: "" }, SSE), 400, /prompt/);
    await expectText(await post(app, "/ask", "{not json", SSE), 400, /JSON/);
    backend.next(() => {
      throw upstreamDown();
    });
    await expectText(await post(app, "/ask", { prompt: "hi" }, SSE), 502, "upstream answered 500: boom");
    const cooling = await post(app, "/ask", { prompt: "hi" }, SSE);
    expect(cooling.headers.get("retry-after")).toBe("15");
    await expectText(cooling, 429, "cooling down: try again in 15 s");
    const { app: unconfigured } = setup({ apiKeys: [] });
    await expectText(await post(unconfigured, "/ask", { prompt: "hi" }, SSE), 503, /^no credential/);
  });

  it("after the first event, a failure is an error event with the code and message, then the end; nothing is stored", async () => {
    const { app, backend, logger } = setup();
    backend.next(async function* (): AsyncGenerator<AskPart> {
      yield { type: "text", text: "One sentence. And" };
      throw upstreamDown();
    });
    expect(await sseLines(await post(app, "/ask", { prompt: "hi" }, SSE))).toEqual([
      "sentence: One sentence.",
      `error: ${JSON.stringify({ code: "upstream", message: "upstream answered 500: boom" })}`,
    ]);
    expect(logger.lines.some((l) => l.level === "warn" && l.msg === "upstream failed")).toBe(true);
    await post(app, "/ask", { prompt: "again" });
    expect(backend.requests[1]?.history).toEqual([]);
  });

  it("sends the first sentence while the upstream is still writing", async () => {
    const { app, backend } = setup();
    const rest = deferred();
    backend.next(async function* (): AsyncGenerator<AskPart> {
      yield { type: "text", text: "First one. Sec" };
      await rest.promise;
      yield { type: "text", text: "ond one." };
      yield { type: "finish" };
    });
    const res = await post(app, "/ask", { prompt: "hi" }, SSE);
    const events = readServerSentEvents(res.body!)[Symbol.asyncIterator]();
    expect((await events.next()).value).toEqual({ event: "sentence", data: "First one." });
    rest.resolve();
    expect((await events.next()).value).toEqual({ event: "sentence", data: "Second one." });
    expect((await events.next()).value).toEqual({ event: "done", data: "First one. Second one." });
    expect((await events.next()).done).toBe(true);
  });

  it("cancels the upstream call and stores nothing when the client goes away mid-stream", async () => {
    const { app, backend } = setup();
    backend.next(async function* (request): AsyncGenerator<AskPart> {
      yield { type: "text", text: "One sentence. And" };
      await untilAborted(request);
    });
    const client = new AbortController();
    const res = await post(app, "/ask", { prompt: "hi" }, { ...SSE, signal: client.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: sentence\ndata: One sentence.\n\n");
    client.abort();
    await reader.cancel();
    await vi.waitFor(() => expect(backend.requests[0]?.signal.aborted).toBe(true));
    await expectText(await post(app, "/ask", { prompt: "again" }), 200, "echo: again");
    expect(backend.requests[1]?.history).toEqual([]);
  });
});

describe("POST /renew", () => {
  it("replaces the credential with an access token (version 1) and resets the history", async () => {
    const { app, backend, pool, defaultSession } = setup();
    await post(app, "/ask", { prompt: "before" });
    const before = defaultSession.sessionId;

    await expectText(await post(app, "/renew", { access_token: NEW_TOKEN }), 200, "ok");
    await post(app, "/ask", { prompt: "after" });

    const last = backend.requests.at(-1)!;
    expect(last.credential).toBe(NEW_TOKEN);
    expect(last.config.version).toBe(1);
    expect(last.history).toEqual([]);
    expect(defaultSession.sessionId).not.toBe(before);
    expect(await pool.get(before!)).toBeUndefined(); // the old session is gone, not leaked
    expect(await pool.size()).toBe(1);
  });

  it("takes an API key with version 3", async () => {
    const { app, backend } = setup();
    await expectText(await post(app, "/renew", { api_key: NEW_KEY, version: 3 }), 200, "ok");
    await post(app, "/ask", { prompt: "hi" });
    expect(backend.requests[0]).toMatchObject({ credential: NEW_KEY, config: { version: 3 } });
  });

  it("logs the new credential masked only", async () => {
    const { app, logger } = setup();
    await post(app, "/renew", { access_token: NEW_TOKEN });
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain(NEW_TOKEN);
    expect(
      logger.lines.find((l) => l.msg === "default session renewed with a new credential")?.obj.credentialMasked,
    ).toBe(maskSecret(NEW_TOKEN));
  });

  it.each([
    ["not JSON", "access_token=abc", "the request body is not valid JSON"],
    ["without access_token", "{}", "access_token is required"],
    ["with an empty access_token", '{"access_token": ""}', "access_token is required"],
    ["with a number access_token", '{"access_token": 12345}', "access_token must be a string"],
    ["with an array api_key", '{"api_key": ["sk"], "version": 3}', "api_key must be a string"],
    ["with an unknown version", '{"access_token": "eyJ-test-token-0005", "version": 2}', /^unsupported version 2/],
    [
      "with a credential holding spaces",
      '{"access_token": "eyJ test token"}',
      /access_token must be visible ASCII only/,
    ],
    [
      "with a whitespace-only api_key",
      '{"api_key": " ", "version": 3}',
      /api_key must not be empty or only whitespace/,
    ],
  ])("answers 400 to a body %s and changes nothing", async (_name, body, message) => {
    const { app, backend, defaultSession } = setup();
    await post(app, "/ask", { prompt: "before" });
    const before = defaultSession.sessionId;
    await expectText(await post(app, "/renew", body), 400, message);
    await post(app, "/ask", { prompt: "after" });
    expect(defaultSession.sessionId).toBe(before);
    expect(backend.requests.at(-1)?.credential).toBe(SERVER_KEY);
    expect(backend.requests.at(-1)?.history).toHaveLength(2);
  });

  it("answers 413 to a body over the limit", async () => {
    const { app } = setup({ bodyLimitBytes: 32 });
    await expectText(
      await post(app, "/renew", { access_token: NEW_TOKEN }),
      413,
      "the request body is larger than 32 bytes",
    );
  });

  it("works when the pool is full of other sessions, by giving up the old default session's slot", async () => {
    const { app, backend, pool } = setup({ maxSessions: 2 });
    await post(app, "/ask", { prompt: "one" });
    await pool.create({ config: JSON.stringify({ version: 3, api_key: "sk-test-someone-else-0004" }) });
    await expectText(await post(app, "/renew", { api_key: NEW_KEY }), 200, "ok");
    await expectText(await post(app, "/ask", { prompt: "two" }), 200, "echo: two");
    expect(backend.requests.at(-1)?.credential).toBe(NEW_KEY);
    expect(await pool.size()).toBe(2);
  });

  it("lets an ask in flight during a renew finish in the renewed session", async () => {
    const { app, backend } = setup();
    const started = deferred();
    backend.script = (request) => {
      if (request.credential === SERVER_KEY) {
        started.resolve();
        return untilAborted(request);
      }
      return `echo: ${request.prompt}`;
    };
    const asking = post(app, "/ask", { prompt: "hi" });
    await started.promise;
    await expectText(await post(app, "/renew", { access_token: NEW_TOKEN }), 200, "ok");
    await expectText(await asking, 200, "echo: hi");
    expect(backend.requests.map((r) => r.credential)).toEqual([SERVER_KEY, NEW_TOKEN]);
  });
});

describe("routing", () => {
  it("answers 404 to an unknown path", async () => {
    const { app } = setup();
    await expectText(await app.request("/nope"), 404, /^not found/);
  });

  it("answers 405 with Allow to a wrong method on a known path", async () => {
    const { app } = setup();
    const res = await app.request("/ask");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    const res2 = await post(app, "/healthz", "{}");
    expect(res2.status).toBe(405);
    expect(res2.headers.get("allow")).toBe("GET, HEAD");
  });

  it("logs one line per request with method, path, status and latency", async () => {
    const { app, logger } = setup({ cooldownMs: 15_000, now: () => 5_000 });
    await post(app, "/ask", { prompt: "a" });
    await post(app, "/ask", { prompt: "b" });
    await app.request("/healthz?x=secret-query");
    const lines = logger.lines.filter((l) => l.msg === "request").map((l) => l.obj);
    expect(lines).toEqual([
      { method: "POST", path: "/ask", status: 200, ms: expect.any(Number) },
      { method: "POST", path: "/ask", status: 429, ms: expect.any(Number) },
      { method: "GET", path: "/healthz", status: 200, ms: expect.any(Number) },
    ]);
  });

  it("rejects a body limit that is not a positive whole number", () => {
    const { pool } = setup();
    expect(() => createHttpApp({ pool, bodyLimitBytes: 0 })).toThrow(RangeError);
  });
});
