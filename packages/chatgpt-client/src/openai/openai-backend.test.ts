import { ErrorCode, maskSecret } from "@chatgptchatbot/core";
import {
  API_KEY,
  askRequest,
  drain,
  everythingIn,
  rejection,
  sessionConfig,
  startScriptedServer,
} from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { backendUnderTest, OPENAI } from "../../test/backend-under-test.js";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { DEFAULT_OPENAI_MODEL } from "./openai-backend.js";

const suite = backendUnderTest(OPENAI);
const { cleanup, backend } = suite;

describe("OpenAIBackend: happy path", () => {
  it("streams the reply as deltas over chat completions, with the key in the Authorization header", async () => {
    // Events 5 ms apart arrive in chunks of their own: each leaves as its own part (streamed, not one block).
    const fake = await OPENAI.startFake({ chunkDelayMs: 5 });
    cleanup.push(() => fake.close());
    const { backend: b } = backend({ apiUrl: fake.url });
    const { deltas, text } = await drain(b.ask(askRequest({ prompt: "how are you today" })));
    expect(text).toBe("echo: how are you today");
    expect(deltas.length).toBeGreaterThan(1);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.path).toBe("/v1/chat/completions");
    expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request!.body).toMatchObject({ model: DEFAULT_OPENAI_MODEL, stream: true });
    expect(request!.body).not.toHaveProperty("temperature");
  });

  it("sends the system prompt, the history with role and content only, then the prompt", async () => {
    const { backend: b } = backend();
    const history = [
      { role: "user" as const, content: "q1", tokens: 5 },
      { role: "assistant" as const, content: "a1", tokens: 5 },
    ];
    await drain(b.ask(askRequest({ systemPrompt: "You are Mimi.", history, prompt: "q2" })));
    expect(suite.fake.requests[0]!.body.messages).toEqual([
      { role: "system", content: "You are Mimi." },
      { role: "user", content: "q1" },
      { role: "assistant", content: "a1" },
      { role: "user", content: "q2" },
    ]);
  });

  it("uses the VTuber persona when the session has no system prompt", async () => {
    const { backend: b } = backend();
    await drain(b.ask(askRequest({ systemPrompt: "  " })));
    expect(suite.fake.requests[0]!.body.messages[0]).toEqual({ role: "system", content: DEFAULT_SYSTEM_PROMPT });
  });

  it("takes the session's model and temperature, else the server's model; unknown models are passed through", async () => {
    const { backend: b } = backend({ model: "server-default-model" });
    await drain(b.ask(askRequest()));
    await drain(b.ask(askRequest({ config: sessionConfig({ model: "my-own-finetune-v9", temperature: 0.3 }) })));
    expect(suite.fake.requests[0]!.body).toMatchObject({ model: "server-default-model" });
    expect(suite.fake.requests[1]!.body).toMatchObject({ model: "my-own-finetune-v9", temperature: 0.3 });
  });

  it("accepts the endpoint as a base URL or as the full chat-completions URL, from the session or the server", async () => {
    const { backend: fromServer } = backend({ apiUrl: `${suite.fake.url}/chat/completions` });
    await drain(fromServer.ask(askRequest()));
    const { backend: fromSession } = backend({ apiUrl: "http://127.0.0.1:9/never-used" });
    await drain(
      fromSession.ask(askRequest({ config: sessionConfig({ baseUrl: `${suite.fake.url}/chat/completions/` }) })),
    );
    await drain(fromSession.ask(askRequest({ config: sessionConfig({ baseUrl: suite.fake.url }) })));
    expect(suite.fake.requests.map((r) => r.path)).toEqual([
      "/v1/chat/completions",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ]);
  });
});

describe("OpenAIBackend: servers that do not stream", () => {
  async function jsonServer(body: object) {
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    cleanup.push(() => server.close());
    return server;
  }

  it("takes a whole JSON completion as the reply", async () => {
    const server = await jsonServer({
      choices: [{ index: 0, message: { role: "assistant", content: "whole reply" }, finish_reason: "stop" }],
    });
    const { backend: b } = backend({ apiUrl: `${server.origin}/v1` });
    expect(await drain(b.ask(askRequest()))).toMatchObject({ deltas: ["whole reply"] });
  });

  it("an error in a 200 JSON body → Upstream with its reason, the key masked", async () => {
    const server = await jsonServer({ error: { message: `quota exceeded for ${API_KEY}` } });
    const { backend: b } = backend({ apiUrl: `${server.origin}/v1` });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      message: `the upstream reported an error: quota exceeded for ${maskSecret(API_KEY)}`,
    });
  });

  it("a JSON body without a reply → Upstream", async () => {
    const server = await jsonServer({ object: "chat.completion", choices: [] });
    const { backend: b } = backend({ apiUrl: `${server.origin}/v1` });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      message: "the upstream sent a malformed reply (no choices[0].message.content)",
    });
  });
});

describe("OpenAIBackend: event streams read without the SDK's Stream", () => {
  async function sseServer(events: string[]) {
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const event of events) res.write(event);
      res.end();
    });
    cleanup.push(() => server.close());
    return server;
  }
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;

  it("an error event mid-stream → Upstream with its reason, the key masked, after the part that arrived", async () => {
    const server = await sseServer([
      chunk("half a "),
      `event: error\ndata: ${JSON.stringify({ error: { message: `overloaded for ${API_KEY}` } })}\n\n`,
    ]);
    const { backend: b } = backend({ apiUrl: `${server.origin}/v1` });
    const deltas: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const delta of b.ask(askRequest())) if (delta.type === "text") deltas.push(delta.text);
      })(),
    );
    expect(deltas).toEqual(["half a "]);
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      message: `the upstream reported an error: overloaded for ${maskSecret(API_KEY)}`,
    });
  });

  it("an `error` field in a chunk → Upstream", async () => {
    const server = await sseServer([`data: ${JSON.stringify({ error: "model not loaded" })}\n\n`]);
    const { backend: b } = backend({ apiUrl: `${server.origin}/v1` });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      message: "the upstream reported an error: model not loaded",
    });
  });

  const finish = (reason: string) =>
    `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: reason }] })}\n\n`;

  it('a stream that ends cleanly with neither [DONE] nor a finish_reason → Upstream "ended early", after the part that arrived', async () => {
    const server = await sseServer([chunk("one "), chunk("two")]);
    const deltas: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of backend({ apiUrl: `${server.origin}/v1` }).backend.ask(askRequest())) {
          if (part.type === "text") deltas.push(part.text);
        }
      })(),
    );
    expect(deltas.join("")).toBe("one two");
    expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream reply ended early" });
    expect(error.upstreamStatus).toBe(200); // the upstream answered: UNAVAILABLE over gRPC, 502 (not 503) over HTTP
  });

  it("a stream of only a role chunk, or of nothing at all, ended early too", async () => {
    const role = await sseServer([
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }] })}\n\n`,
    ]);
    expect(await rejection(drain(backend({ apiUrl: `${role.origin}/v1` }).backend.ask(askRequest())))).toMatchObject({
      message: "the upstream reply ended early",
    });
    const empty = await sseServer([": keep-alive\n\n"]);
    expect(await rejection(drain(backend({ apiUrl: `${empty.origin}/v1` }).backend.ask(askRequest())))).toMatchObject({
      message: "the upstream reply ended early",
    });
  });

  it('a finish_reason without [DONE] is complete, "length" included (cut by max_tokens, not lost)', async () => {
    for (const reason of ["stop", "length", "content_filter"]) {
      const server = await sseServer([chunk("one "), chunk("two"), finish(reason)]);
      expect(await drain(backend({ apiUrl: `${server.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
        text: "one two",
      });
    }
  });

  it("a chunk's events leave as one part of each kind, in order; a bad event after text in the same chunk comes after that text", async () => {
    const think = (reasoning_content: string) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: null, reasoning_content } }] })}\n\n`;
    const server = await sseServer([
      `${think("let me ") + think("see") + chunk("one ") + chunk("two") + finish("stop")}data: [DONE]\n\n`,
    ]);
    const { parts } = await drain(backend({ apiUrl: `${server.origin}/v1` }).backend.ask(askRequest()));
    expect(parts).toEqual([
      { type: "reasoning", text: "let me see" },
      { type: "text", text: "one two" },
      { type: "finish", finishReason: "stop" },
    ]);
    const bad = await sseServer([`${chunk("half ") + chunk("a reply")}data: {not json\n\n`]);
    const deltas: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of backend({ apiUrl: `${bad.origin}/v1` }).backend.ask(askRequest())) {
          if (part.type === "text") deltas.push(part.text);
        }
      })(),
    );
    expect(deltas).toEqual(["half a reply"]);
    expect(error.message).toBe("the upstream sent a malformed reply (invalid JSON)");
  });

  it("[DONE] without a finish_reason is complete; events after [DONE] are ignored", async () => {
    const done = await sseServer([chunk("one "), chunk("two"), "data: [DONE]\n\n"]);
    expect(await drain(backend({ apiUrl: `${done.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
      text: "one two",
    });
    const after = await sseServer([chunk("one"), "data: [DONE]\n\n", chunk("ignored")]);
    expect(await drain(backend({ apiUrl: `${after.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
      deltas: ["one"],
    });
  });

  it("Ollama's and vLLM's streams pass (finish_reason on the last content chunk or its own, usage, [DONE])", async () => {
    // Ollama's /v1 compatibility layer: chunks with finish_reason null, the last one carrying "stop" with its content.
    const ollamaChunk = (content: string, reason: string | null) =>
      `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "llama3.2", system_fingerprint: "fp_ollama", choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: reason }] })}\n\n`;
    const ollama = await sseServer([
      ollamaChunk("Hel", null),
      ollamaChunk("lo", null),
      ollamaChunk("", "stop"),
      "data: [DONE]\n\n",
    ]);
    expect(await drain(backend({ apiUrl: `${ollama.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
      text: "Hello",
    });
    // vLLM: a finish chunk with stop_reason, then a usage chunk with empty choices, then [DONE].
    const vllm = await sseServer([
      chunk("Hi"),
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "!" }, logprobs: null, finish_reason: "stop", stop_reason: null }] })}\n\n`,
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, total_tokens: 7, completion_tokens: 2 } })}\n\n`,
      "data: [DONE]\n\n",
    ]);
    expect(await drain(backend({ apiUrl: `${vllm.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
      text: "Hi!",
    });
  });

  it("skips chunks without content (the role chunk, the finish chunk, usage)", async () => {
    const server = await sseServer([
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] })}\n\n`,
      chunk("hi"),
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
      `data: ${JSON.stringify({ choices: [], usage: { total_tokens: 3 } })}\n\n`,
      "data: [DONE]\n\n",
    ]);
    expect(await drain(backend({ apiUrl: `${server.origin}/v1` }).backend.ask(askRequest()))).toMatchObject({
      deltas: ["hi"],
    });
  });
});

describe("OpenAIBackend: failures", () => {
  it("401 → Upstream with the status and the upstream's reason, not retried, the key absent", async () => {
    const { backend: b, logger } = backend();
    suite.fake.enqueueFault({ kind: "status", status: 401, message: `Incorrect API key provided: ${API_KEY}.` });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.upstreamStatus).toBe(401);
    expect(error.message).toBe(`the upstream answered 401: Incorrect API key provided: ${maskSecret(API_KEY)}.`);
    expect(suite.fake.requests).toHaveLength(1);
    expect(everythingIn(error)).not.toContain(API_KEY);
    expect(logger.text()).not.toContain(API_KEY);
    expect(logger.text()).toContain(maskSecret(API_KEY));
  });

  it("400 is not retried", async () => {
    const { backend: b } = backend();
    suite.fake.enqueueFault({ kind: "status", status: 400, message: "bad model" });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      upstreamStatus: 400,
      message: "the upstream answered 400: bad model",
    });
    expect(suite.fake.requests).toHaveLength(1);
  });

  it("a malformed event stream → Upstream", async () => {
    const { backend: b } = backend();
    suite.fake.enqueueFault({ kind: "malformed" });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toBe("the upstream sent a malformed reply (invalid JSON)");
    expect(error.upstreamStatus).toBe(200); // the upstream answered, badly: not "unreachable" (the HTTP API says 502, not 503)
    expect(everythingIn(error)).not.toContain(API_KEY);
  });

  it("a connection cut mid-reply → Upstream, after the part that arrived", async () => {
    const { backend: b } = backend();
    suite.fake.enqueueFault({ kind: "cut" });
    const stream = b.ask(askRequest({ prompt: "one two three four five six" }));
    const deltas: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const delta of stream) if (delta.type === "text") deltas.push(delta.text);
      })(),
    );
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toMatch(/closed before the reply was complete/);
    expect(deltas.join("")).not.toBe("echo: one two three four five six");
    expect(suite.fake.requests).toHaveLength(1); // a reply already under way is never retried
  });

  it("each attempt gets the whole deadline: a slow 503 does not eat into the retry's time", async () => {
    let requests = 0;
    const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const server = await startScriptedServer((req, res) => {
      req.resume();
      const first = ++requests === 1;
      // 250 ms each: both attempts together (500 ms) are past the 400 ms timeout, each alone is not.
      setTimeout(
        () => {
          if (first) {
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: { message: "overloaded" } }));
            return;
          }
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(chunk("slow "));
          setTimeout(() => res.end(`${chunk("but whole")}data: [DONE]\n\n`), 125);
        },
        first ? 250 : 125,
      );
    });
    cleanup.push(() => server.close());
    const { backend: b, delays } = backend({ apiUrl: `${server.origin}/v1`, requestTimeoutMs: 400 });
    expect(await drain(b.ask(askRequest()))).toMatchObject({ text: "slow but whole" });
    expect(requests).toBe(2);
    expect(delays).toHaveLength(1);
  });

  it("an unreachable upstream → Upstream, retried", async () => {
    const { backend: b, delays } = backend({ apiUrl: "http://127.0.0.1:1/v1" });
    const error = await rejection(drain(b.ask(askRequest())));
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toBe("could not connect to the upstream (ECONNREFUSED)");
    expect(delays).toHaveLength(2);
  });
});
