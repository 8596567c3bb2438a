import { ErrorCode, maskSecret } from "@chatgptchatbot/core";
import {
  ACCESS_TOKEN,
  askRequest,
  drain,
  everythingIn,
  rejection,
  startScriptedServer,
} from "@chatgptchatbot/testkit/testing";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { backendUnderTest, CHATGPT_WEB } from "../../test/backend-under-test.js";
import { DEFAULT_CHATGPT_WEB_MODEL } from "./chatgpt-web-backend.js";

const suite = backendUnderTest(CHATGPT_WEB);
const { cleanup, backend } = suite;
const v1 = CHATGPT_WEB.config;

describe("ChatGPTWebBackend: conversation", () => {
  it("posts an action `next` with the token, streams the growing reply as deltas, returns the conversation pointer", async () => {
    // Events 5 ms apart arrive in chunks of their own: each new piece leaves as its own part.
    const fake = await CHATGPT_WEB.startFake({ chunkDelayMs: 5 });
    cleanup.push(() => fake.close());
    const { backend: b } = backend({ baseUrl: fake.url });
    const { deltas, text, result, parts } = await drain(
      b.ask(askRequest({ config: v1(), prompt: "hello there, streamer" })),
    );
    expect(text).toBe("echo: hello there, streamer");
    expect(deltas.length).toBeGreaterThan(1);
    const [request] = fake.requests;
    expect(request!.path).toBe("/backend-api/conversation");
    expect(request!.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(request!.headers.accept).toBe("text/event-stream");
    const body = request!.body;
    expect(body).toMatchObject({
      action: "next",
      model: DEFAULT_CHATGPT_WEB_MODEL,
      messages: [{ author: { role: "user" }, content: { content_type: "text", parts: ["hello there, streamer"] } }],
    });
    expect(body).not.toHaveProperty("conversation_id");
    expect(body.parent_message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.messages[0].id).toMatch(/^[0-9a-f-]{36}$/);

    const [conversationId, thread] = [...fake.conversations.entries()][0]!;
    expect(result.conversation).toEqual({ conversationId, parentMessageId: thread.messages.at(-1)!.id });
    // The pointer travels in the last part, `finish`, after every text part.
    expect(parts.at(-1)).toEqual({ type: "finish", conversation: result.conversation });
    expect(parts.slice(0, -1).every((part) => part.type === "text")).toBe(true);
  });

  it("continues the conversation from the returned pointer, turn after turn", async () => {
    const { backend: b } = backend();
    const first = await drain(b.ask(askRequest({ config: v1(), prompt: "one" })));
    const second = await drain(
      b.ask(askRequest({ config: v1(), prompt: "two", conversation: first.result.conversation ?? null })),
    );
    const third = await drain(
      b.ask(askRequest({ config: v1(), prompt: "three", conversation: second.result.conversation ?? null })),
    );
    expect(third.text).toBe("echo: three");
    expect(suite.fake.conversations.size).toBe(1);
    const [conversationId, thread] = [...suite.fake.conversations.entries()][0]!;
    expect(thread.messages.map((m) => `${m.role}:${m.text}`)).toEqual([
      "user:one",
      "assistant:echo: one",
      "user:two",
      "assistant:echo: two",
      "user:three",
      "assistant:echo: three",
    ]);
    expect(suite.fake.requests[1]!.body).toMatchObject({
      conversation_id: conversationId,
      parent_message_id: thread.messages[1]!.id,
    });
    expect(third.result.conversation).toEqual({ conversationId, parentMessageId: thread.messages[5]!.id });
  });

  it("takes the session's model, else the server's", async () => {
    const { backend: b } = backend({ model: "gpt-4o" });
    await drain(b.ask(askRequest({ config: v1() })));
    await drain(b.ask(askRequest({ config: v1({ model: "text-davinci-002-render-sha" }) })));
    expect(suite.fake.requests.map((r) => r.body.model)).toEqual(["gpt-4o", "text-davinci-002-render-sha"]);
  });

  it("uses the session's base_url over the server's, with or without /conversation or a trailing slash", async () => {
    const { backend: b } = backend({ baseUrl: "http://127.0.0.1:9/not-this-one" });
    await drain(b.ask(askRequest({ config: v1({ baseUrl: `${suite.fake.url}/` }) })));
    await drain(b.ask(askRequest({ config: v1({ baseUrl: `${suite.fake.url}/conversation` }) })));
    expect(suite.fake.requests).toHaveLength(2);
  });

  it("refuses a session without any base URL, before sending anything", async () => {
    const { backend: b } = backend({ baseUrl: undefined });
    const error = await rejection(drain(b.ask(askRequest({ config: v1() }))));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.message).toMatch(/base_url/);
    expect(() => b.endpoint(v1())).toThrow(/never sent to a host you did not name/);
    expect(suite.fake.requests).toHaveLength(0);
  });
});

describe("ChatGPTWebBackend: failures", () => {
  it("an error body's detail → Upstream with the upstream's reason and status, the token absent", async () => {
    const { backend: b, logger } = backend();
    suite.fake.enqueueFault({ kind: "status", status: 401, message: `token ${ACCESS_TOKEN} has expired` });
    const error = await rejection(drain(b.ask(askRequest({ config: v1() }))));
    expect(error).toMatchObject({ code: ErrorCode.Upstream, upstreamStatus: 401 });
    expect(error.message).toBe(`the upstream answered 401: token ${maskSecret(ACCESS_TOKEN)} has expired`);
    expect(suite.fake.requests).toHaveLength(1);
    expect(everythingIn(error)).not.toContain(ACCESS_TOKEN);
    expect(logger.text()).not.toContain(ACCESS_TOKEN);
    expect(logger.text()).toContain(maskSecret(ACCESS_TOKEN));
  });

  it("a follow-up the upstream does not know (404) → Upstream", async () => {
    const { backend: b } = backend();
    const error = await rejection(
      drain(b.ask(askRequest({ config: v1(), conversation: { conversationId: "gone", parentMessageId: "x" } }))),
    );
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      upstreamStatus: 404,
      message: "the upstream answered 404: Conversation not found",
    });
  });

  it("a malformed event stream → Upstream", async () => {
    const { backend: b } = backend();
    suite.fake.enqueueFault({ kind: "malformed" });
    const error = await rejection(drain(b.ask(askRequest({ config: v1() }))));
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toBe("the upstream sent a malformed reply (1 event was not JSON)");
    expect(error.upstreamStatus).toBe(200); // the upstream answered, badly: not "unreachable" (the HTTP API says 502, not 503)
  });

  it("a connection cut mid-reply → Upstream", async () => {
    const { backend: b } = backend();
    suite.fake.enqueueFault({ kind: "cut" });
    const error = await rejection(drain(b.ask(askRequest({ config: v1(), prompt: "one two three four five six" }))));
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toBe("the upstream connection closed before the reply was complete (UND_ERR_SOCKET)");
    expect(suite.fake.requests).toHaveLength(1);
  });

  it("the deadline is the only timeout: the dispatcher's own header and body timeouts do not apply", async () => {
    // Such a dispatcher would cut this reply twice over (undici checks its timeouts about once a second).
    const strict = new Agent({ headersTimeout: 50, bodyTimeout: 50 });
    cleanup.push(() => strict.destroy());
    const event = (text: string, status: string) =>
      `data: ${JSON.stringify({ message: { id: "m1", author: { role: "assistant" }, content: { content_type: "text", parts: [text] }, status }, conversation_id: "c1", error: null })}\n\n`;
    const server = await startScriptedServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(event("slow", "in_progress"));
        setTimeout(() => res.end(`${event("slow but whole", "finished_successfully")}data: [DONE]\n\n`), 1100);
      }, 1100);
    });
    cleanup.push(() => server.close());
    const { backend: b } = backend({ dispatcher: strict, baseUrl: server.origin, requestTimeoutMs: 5000 });
    expect(await drain(b.ask(askRequest({ config: v1() })))).toMatchObject({ text: "slow but whole" });
  });

  it("an error event inside the stream → Upstream with its reason", async () => {
    const { backend: b } = backend({ baseUrl: undefined });
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(
        `data: ${JSON.stringify({ message: null, conversation_id: "c", error: "Something went wrong. Try again." })}\n\ndata: [DONE]\n\n`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const error = await rejection(
      drain(b.ask(askRequest({ config: v1({ baseUrl: `http://127.0.0.1:${port}/api` }) }))),
    );
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      message: "the upstream reported an error: Something went wrong. Try again.",
    });
  });

  describe("a reply is complete at [DONE] or at a finished assistant message", () => {
    const message = (text: string, status: "in_progress" | "finished_successfully") =>
      `data: ${JSON.stringify({
        message: {
          id: "m-1",
          author: { role: "assistant" },
          content: { content_type: "text", parts: [text] },
          status,
          end_turn: status === "finished_successfully" ? true : null,
        },
        conversation_id: "c-1",
        error: null,
      })}\n\n`;
    async function replyFrom(events: string[]) {
      const server = await startScriptedServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const event of events) res.write(event);
        res.end();
      });
      cleanup.push(() => server.close());
      const { backend: b } = backend({ baseUrl: server.origin });
      return drain(b.ask(askRequest({ config: v1() })));
    }

    it('an event stream that closes cleanly with neither → Upstream "ended early"', async () => {
      const error = await rejection(replyFrom([message("Hel", "in_progress"), message("Hello, wor", "in_progress")]));
      expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream reply ended early" });
      expect(error.upstreamStatus).toBe(200); // the upstream answered: UNAVAILABLE over gRPC, 502 (not 503) over HTTP
    });

    it('a stream that closes before any message, ended early too (not "no assistant message")', async () => {
      expect(await rejection(replyFrom([": ping\n\n"]))).toMatchObject({ message: "the upstream reply ended early" });
      expect(await rejection(replyFrom(["data: [DONE]\n\n"]))).toMatchObject({
        message: "the upstream's reply held no assistant message",
      });
    });

    it("a finished message without [DONE] is complete, and so is [DONE] after in-progress messages", async () => {
      expect(await replyFrom([message("Hel", "in_progress"), message("Hello", "finished_successfully")])).toMatchObject(
        {
          text: "Hello",
          result: { conversation: { conversationId: "c-1", parentMessageId: "m-1" } },
        },
      );
      expect(
        await replyFrom([message("Hel", "in_progress"), message("Hello", "in_progress"), "data: [DONE]\n\n"]),
      ).toMatchObject({
        text: "Hello",
      });
    });
  });

  it("a 200 with a JSON detail instead of an event stream → Upstream with the detail", async () => {
    const { backend: b } = backend();
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: { message: "Only one message at a time.", code: "conflict" } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const error = await rejection(drain(b.ask(askRequest({ config: v1({ baseUrl: `http://127.0.0.1:${port}` }) }))));
    expect(error.message).toBe("the upstream answered 200: Only one message at a time. (conflict)");
  });
});
