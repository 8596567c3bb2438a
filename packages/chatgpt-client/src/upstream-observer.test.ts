import { ChatbotError, SessionPool } from "@chatgptchatbot/core";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { ACCESS_TOKEN, API_KEY, closeAfterEach } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { type Backends, createBackends } from "./backends.js";
import { failureOutcome, type UpstreamObserver } from "./upstream-observer.js";

const cleanup = closeAfterEach();

type Seen = {
  requests: { backend: string; outcome: string; seconds: number }[];
  retries: { backend: string; outcome: string }[];
};

/** Backends whose observer records what they report, and a pool over them. */
function setUp(options: { apiUrl?: string; chatgptBaseUrl?: string; requestTimeoutMs?: number; maxRetries?: number }): {
  seen: Seen;
  pool: SessionPool;
} {
  const seen: Seen = { requests: [], retries: [] };
  const observer: UpstreamObserver = {
    request: (info) => seen.requests.push({ ...info }),
    retry: (info) => seen.retries.push({ ...info }),
  };
  const built: Backends = createBackends({ sleep: async () => {}, observer, ...options });
  const pool = new SessionPool({
    backends: built.resolve,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  cleanup.push(
    () => built.close(),
    () => pool.close(),
  );
  return { seen, pool };
}

async function fakeOpenAI(): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI();
  cleanup.push(() => fake.close());
  return fake;
}

async function fakeWeb(): Promise<FakeChatGPTWeb> {
  const fake = await startFakeChatGPTWeb();
  cleanup.push(() => fake.close());
  return fake;
}

const v3 = JSON.stringify({ version: 3, api_key: API_KEY });
const v1 = JSON.stringify({ version: 1, access_token: ACCESS_TOKEN });

describe("UpstreamObserver", () => {
  it("API-key backend: one ok request with its duration; a 503 then success counts one retry and one ok request", async () => {
    const openai = await fakeOpenAI();
    const { seen, pool } = setUp({ apiUrl: openai.url });
    const { sessionId } = await pool.create({ config: v3 });
    await pool.chat({ sessionId, prompt: "hi" });
    expect(seen.requests).toEqual([{ backend: "openai", outcome: "ok", seconds: expect.any(Number) }]);
    expect(seen.requests[0]!.seconds).toBeGreaterThan(0);

    openai.enqueueFault({ kind: "status", status: 503 });
    await pool.chat({ sessionId, prompt: "again" });
    expect(seen.retries).toEqual([{ backend: "openai", outcome: "http_5xx" }]);
    expect(seen.requests.map((r) => r.outcome)).toEqual(["ok", "ok"]);
  });

  it("API-key backend: failures by kind (4xx, malformed, timeout, network)", async () => {
    const openai = await fakeOpenAI();
    const { seen, pool } = setUp({ apiUrl: openai.url, requestTimeoutMs: 300, maxRetries: 0 });
    const { sessionId } = await pool.create({ config: v3 });
    openai.enqueueFault({ kind: "status", status: 401 }, { kind: "malformed" }, { kind: "hang" });
    for (let i = 0; i < 3; i++)
      await expect(pool.chat({ sessionId, prompt: `try ${i}` })).rejects.toBeInstanceOf(ChatbotError);
    await openai.close();
    await expect(pool.chat({ sessionId, prompt: "nobody home" })).rejects.toBeInstanceOf(ChatbotError);
    expect(seen.requests.map((r) => r.outcome)).toEqual(["http_4xx", "malformed", "timeout", "network"]);
  });

  it("access-token backend: ok, a 5xx failure after its retries, an unterminated (malformed) reply", async () => {
    const web = await fakeWeb();
    const { seen, pool } = setUp({ chatgptBaseUrl: web.url, maxRetries: 1 });
    const { sessionId } = await pool.create({ config: v1 });
    await pool.chat({ sessionId, prompt: "hi" });
    web.enqueueFault({ kind: "status", status: 502 }, { kind: "status", status: 502 }, { kind: "unterminated" });
    await expect(pool.chat({ sessionId, prompt: "down" })).rejects.toBeInstanceOf(ChatbotError);
    await expect(pool.chat({ sessionId, prompt: "cut" })).rejects.toBeInstanceOf(ChatbotError);
    expect(seen.requests.map((r) => [r.backend, r.outcome])).toEqual([
      ["chatgpt-web", "ok"],
      ["chatgpt-web", "http_5xx"],
      ["chatgpt-web", "malformed"],
    ]);
    expect(seen.retries).toEqual([{ backend: "chatgpt-web", outcome: "http_5xx" }]);
  });

  it("a request the caller gives up on is 'aborted', not a failure", async () => {
    const openai = await fakeOpenAI();
    const { seen, pool } = setUp({ apiUrl: openai.url });
    const { sessionId } = await pool.create({ config: v3 });
    openai.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const chat = pool.chat({ sessionId, prompt: "wait", signal: controller.signal });
    while (openai.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(chat).rejects.toBeInstanceOf(ChatbotError);
    expect(seen.requests.map((r) => r.outcome)).toEqual(["aborted"]);
  });

  it("failureOutcome: status classes and the deadline", () => {
    const upstream = (status?: number) => ChatbotError.upstream("x", status === undefined ? {} : { status });
    expect(failureOutcome({ failure: upstream(429), caught: undefined, timedOut: false })).toBe("http_4xx");
    expect(failureOutcome({ failure: upstream(500), caught: undefined, timedOut: false })).toBe("http_5xx");
    expect(failureOutcome({ failure: upstream(200), caught: undefined, timedOut: false })).toBe("malformed");
    expect(failureOutcome({ failure: upstream(), caught: undefined, timedOut: true })).toBe("timeout");
    expect(failureOutcome({ failure: upstream(), caught: new Error("?"), timedOut: false })).toBe("other");
    expect(failureOutcome({ failure: ChatbotError.aborted(), caught: undefined, timedOut: true })).toBe("aborted");
  });
});
