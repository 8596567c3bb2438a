import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "./fake-openai.js";
import { parseSSE, readSSE } from "./sse.js";

/** Reply bodies are read loosely in assertions. */
const json = (res: Response): Promise<any> => res.json();

let fake: FakeOpenAI;
afterEach(async () => {
  await fake.close();
});

const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "hello there, how are you" },
];

function chat(body: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-test", "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

describe("startFakeOpenAI: normal replies", () => {
  beforeEach(async () => {
    fake = await startFakeOpenAI();
  });

  it("listens on 127.0.0.1 with an OS-assigned port and a /v1 base URL", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(fake.url).toBe(`${fake.origin}/v1`);
  });

  it("answers a chat completion with OpenAI's JSON shape, echoing the last user message", async () => {
    const res = await chat({ model: "gpt-test", messages });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = await json(res);
    const expectedText = "echo: hello there, how are you";
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-test",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: expectedText, refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      // o200k_base: 3 + (3 + "system" 1 + "You are terse." 4) + (3 + "user" 1 + 6) prompt tokens; the reply's 8.
      usage: { prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 },
    });
    expect(body.id).toMatch(/^chatcmpl-\w+$/);
    expect(body.created).toBeGreaterThan(1_600_000_000);
    expect(body.system_fingerprint).toMatch(/^fp_/);
  });

  it("records every chat completion request with method, path, headers and parsed body", async () => {
    await chat({ model: "a", messages });
    await chat({ model: "b", messages }, { headers: { "x-trace": "2" } });
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      body: { model: "a", messages },
    });
    expect(fake.requests[1]?.headers).toMatchObject({ authorization: "Bearer sk-test", "x-trace": "2" });
  });

  it("streams chunks exactly as OpenAI does, then [DONE]", async () => {
    const res = await chat({ model: "gpt-test", messages, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const payloads = parseSSE(await res.text());
    expect(payloads.at(-1)).toBe("[DONE]");
    const chunks = payloads.slice(0, -1).map((data) => JSON.parse(data) as Chunk);
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: "gpt-test" });
      expect(chunk).not.toHaveProperty("usage");
    }
    expect(chunks[0]?.choices[0]).toMatchObject({
      index: 0,
      delta: { role: "assistant", content: "" },
      finish_reason: null,
    });
    const content = chunks.slice(1, -1).map((chunk) => {
      expect(chunk.choices[0]?.finish_reason).toBeNull();
      return chunk.choices[0]?.delta.content;
    });
    expect(content.length).toBeGreaterThan(1);
    expect(content.join("")).toBe("echo: hello there, how are you");
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks.at(-1)?.choices[0]?.delta).toEqual({});
  });

  it("adds a usage chunk with empty choices when stream_options.include_usage is set", async () => {
    const res = await chat({ model: "m", messages, stream: true, stream_options: { include_usage: true } });
    const chunks = parseSSE(await res.text())
      .slice(0, -1)
      .map((data) => JSON.parse(data) as Chunk);
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("counts usage with a real tokenizer: a Chinese prompt is not undercounted", async () => {
    const prompt = "你好，今天天气怎么样？我们一起去公园散步吧。"; // 22 characters, 16 o200k_base tokens
    const body = await json(await chat({ model: "m", messages: [{ role: "user", content: prompt }] }));
    expect(body.choices[0].message.content).toBe(`echo: ${prompt}`);
    // 3 + (3 + "user" 1 + 16) for the prompt; "echo: " + the prompt is 19 tokens (a token per 4 characters would say 7).
    expect(body.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 19, total_tokens: 42 });
    expect(body.usage.completion_tokens).toBeGreaterThan(`echo: ${prompt}`.length / 2);
  });

  it("reads text parts of array content", async () => {
    const res = await chat({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "from " },
            { type: "text", text: "parts" },
          ],
        },
      ],
    });
    expect((await json(res)).choices[0].message.content).toBe("echo: from parts");
  });

  it("lists its models on GET /v1/models", async () => {
    const res = await fetch(`${fake.url}/models`, { headers: { authorization: "Bearer k" } });
    expect(await json(res)).toEqual({
      object: "list",
      data: [{ id: "gpt-4o-mini", object: "model", created: expect.any(Number), owned_by: "system" }],
    });
  });

  it("answers 401 invalid_api_key without a bearer token, and records the request", async () => {
    for (const headers of [{ authorization: "" }, { authorization: "Basic abc" }]) {
      const res = await chat({ model: "m", messages }, { headers });
      expect(res.status).toBe(401);
      const body = await json(res);
      expect(body).toEqual({
        error: {
          message: expect.stringContaining("API key"),
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
    }
    expect(fake.requests).toHaveLength(2);
  });

  it("answers 400 for an invalid body and 404 for unknown paths, with OpenAI error JSON", async () => {
    const bad = await chat({ messages });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.type).toBe("invalid_request_error");
    const unknown = await fetch(`${fake.origin}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
    });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.message).toBe("Invalid URL (POST /chat/completions)");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("startFakeOpenAI: options", () => {
  it("uses the reply function and streams with chunkDelayMs between chunks", async () => {
    fake = await startFakeOpenAI({ reply: (request) => `model was ${request.body.model}`, chunkDelayMs: 30 });
    const started = Date.now();
    const res = await chat({ model: "custom", messages, stream: true });
    const chunks = parseSSE(await res.text()).slice(0, -1);
    const text = chunks.map((data) => (JSON.parse(data) as Chunk).choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("model was custom");
    // 6 chunks after the first (role, 3 words, stop, [DONE]) → 5 gaps.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 30 - 5);
  });
});

describe("startFakeOpenAI: faults", () => {
  beforeEach(async () => {
    fake = await startFakeOpenAI();
  });

  it("status: answers the status with Retry-After and OpenAI error JSON, once, in FIFO order", async () => {
    fake.enqueueFault({ kind: "status", status: 429, retryAfter: 7 }, { kind: "status", status: 500, message: "boom" });
    const first = await chat({ model: "m", messages });
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    expect(await json(first)).toEqual({
      error: { message: expect.any(String), type: "requests", param: null, code: "rate_limit_exceeded" },
    });
    const second = await chat({ model: "m", messages, stream: true });
    expect(second.status).toBe(500);
    expect(second.headers.get("retry-after")).toBeNull();
    expect(await json(second)).toEqual({ error: { message: "boom", type: "server_error", param: null, code: null } });
    const third = await chat({ model: "m", messages });
    expect(third.status).toBe(200);
    expect(fake.requests).toHaveLength(3);
  });

  it("malformed: 200 application/json whose body is not JSON; streaming gets a broken event", async () => {
    fake.enqueueFault({ kind: "malformed" }, { kind: "malformed" });
    const res = await chat({ model: "m", messages });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    await expect(res.json()).rejects.toThrow(SyntaxError);
    const streamed = await chat({ model: "m", messages, stream: true });
    const payloads = parseSSE(await streamed.text());
    expect(payloads).toHaveLength(2);
    expect(() => JSON.parse(payloads[0] ?? "")).toThrow(SyntaxError);
  });

  it("cut (streaming): sends some chunks, then the client sees the connection drop", async () => {
    fake.enqueueFault({ kind: "cut" });
    const res = await chat({ model: "m", messages, stream: true });
    expect(res.status).toBe(200);
    const received: string[] = [];
    const read = (async () => {
      for await (const data of readSSE(res.body as AsyncIterable<Uint8Array>)) received.push(data);
    })();
    await expect(read).rejects.toThrow();
    expect(received.length).toBeGreaterThan(0);
    expect(received).not.toContain("[DONE]");
    expect(fake.abortedRequests).toBe(0);
  });

  it("error-event (streaming): part of the reply, then `event: error` with OpenAI's error JSON, then a clean end", async () => {
    fake.enqueueFault({ kind: "error-event", message: "overloaded mid-reply" });
    const text = await (await chat({ model: "m", messages, stream: true })).text();
    const payloads = parseSSE(text);
    expect(payloads).not.toContain("[DONE]");
    expect(JSON.parse(payloads.at(-1) ?? "")).toEqual({
      error: { message: "overloaded mid-reply", type: "server_error", param: null, code: null },
    });
    expect(text).toContain("event: error\ndata: ");
    const chunks = payloads.slice(0, -1).map((data) => JSON.parse(data) as Chunk);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((chunk) => chunk.choices[0]?.finish_reason === null)).toBe(true);
  });

  it("unterminated (streaming): the whole text, then a clean end with neither finish_reason nor [DONE]", async () => {
    fake.enqueueFault({ kind: "unterminated" });
    const res = await chat({ model: "m", messages, stream: true });
    const payloads = parseSSE(await res.text());
    expect(payloads).not.toContain("[DONE]");
    const chunks = payloads.map((data) => JSON.parse(data) as Chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(
      "echo: hello there, how are you",
    );
    expect(chunks.every((chunk) => chunk.choices[0]?.finish_reason === null)).toBe(true);
    // The next request is answered normally again.
    expect(parseSSE(await (await chat({ model: "m", messages, stream: true })).text()).at(-1)).toBe("[DONE]");
  });

  it("404 answers model_not_found, as OpenAI does for an unknown model", async () => {
    fake.enqueueFault({ kind: "status", status: 404 });
    const res = await chat({ model: "no-such-model", messages });
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({ code: "model_not_found", type: "invalid_request_error" });
  });

  it("cut (non-streaming): headers and a partial body, then the connection drops", async () => {
    fake.enqueueFault({ kind: "cut" });
    const res = await chat({ model: "m", messages });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect((await chat({ model: "m", messages })).status).toBe(200);
  });

  it("hang: never answers; a client abort is counted and waitForAbort resolves", async () => {
    fake.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = chat({ model: "m", messages }, { signal: controller.signal });
    await until(() => fake.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.abortedRequests).toBe(0);
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await fake.waitForAbort(2000);
    expect(fake.abortedRequests).toBe(1);
    // The abort is consumed: the next wait times out.
    await expect(fake.waitForAbort(50)).rejects.toThrow(/no aborted request/);
  });

  it("counts a client abort in the middle of a stream, even if waitForAbort is called later", async () => {
    fake.enqueueFault({ kind: "trickle", intervalMs: 50 });
    const controller = new AbortController();
    const res = await chat({ model: "m", messages, stream: true }, { signal: controller.signal });
    const iterator = readSSE(res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    await until(() => fake.abortedRequests === 1);
    await fake.waitForAbort(10);
  });

  it("trickle (streaming): chunks arrive in order, intervalMs apart", async () => {
    fake.enqueueFault({ kind: "trickle", intervalMs: 40 });
    const started = Date.now();
    const res = await chat({ model: "m", messages, stream: true });
    const arrivals: { data: string; at: number }[] = [];
    for await (const data of readSSE(res.body as AsyncIterable<Uint8Array>)) arrivals.push({ data, at: Date.now() });
    expect(arrivals.at(-1)?.data).toBe("[DONE]");
    const text = arrivals
      .slice(0, -1)
      .map(({ data }) => (JSON.parse(data) as Chunk).choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe("echo: hello there, how are you");
    // The server waits 40 ms before each event after the first, so the last cannot arrive
    // sooner than that; a busy client may read two events at once, so gaps are not checked
    // one by one, only that the events were spread out rather than sent together.
    const gaps = arrivals.length - 1;
    expect((arrivals.at(-1)?.at ?? 0) - started).toBeGreaterThanOrEqual(gaps * 40 - 5);
    expect((arrivals.at(-1)?.at ?? 0) - (arrivals[0]?.at ?? 0)).toBeGreaterThanOrEqual((gaps * 40) / 2);
  });

  it("trickle (non-streaming): delays the whole reply by intervalMs per chunk", async () => {
    fake.enqueueFault({ kind: "trickle", intervalMs: 30 });
    const started = Date.now();
    const res = await chat({ model: "m", messages });
    expect((await json(res)).choices[0].message.content).toBe("echo: hello there, how are you");
    // "echo: hello there, how are you" is 6 chunks.
    expect(Date.now() - started).toBeGreaterThanOrEqual(6 * 30 - 5);
  });

  it("close() ends hanging requests without counting them as aborts", async () => {
    fake.enqueueFault({ kind: "hang" });
    const pending = chat({ model: "m", messages });
    await until(() => fake.requests.length === 1);
    const waiting = expect(fake.waitForAbort(5000)).rejects.toThrow(/closed/);
    await fake.close();
    await expect(pending).rejects.toThrow();
    await waiting;
    expect(fake.abortedRequests).toBe(0);
  });
});
