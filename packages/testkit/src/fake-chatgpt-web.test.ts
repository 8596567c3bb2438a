import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeChatGPTWeb, startFakeChatGPTWeb } from "./fake-chatgpt-web.js";
import { parseSSE, readSSE } from "./sse.js";

/** Reply bodies are read loosely in assertions. */
const json = (res: Response): Promise<any> => res.json();

let fake: FakeChatGPTWeb;
beforeEach(async () => {
  fake = await startFakeChatGPTWeb();
});
afterEach(async () => {
  await fake.close();
});

interface WebEvent {
  message: { id: string; author: { role: string }; content: { content_type: string; parts: string[] }; status: string };
  conversation_id: string;
  error: null;
}

function next(
  {
    prompt,
    messageId,
    parentMessageId,
    conversationId,
  }: { prompt: string; messageId: string; parentMessageId: string; conversationId?: string },
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${fake.url}/conversation`, {
    method: "POST",
    headers: {
      authorization: "Bearer access-token",
      "content-type": "application/json",
      accept: "text/event-stream",
      ...init.headers,
    },
    body: JSON.stringify({
      action: "next",
      messages: [{ id: messageId, author: { role: "user" }, content: { content_type: "text", parts: [prompt] } }],
      ...(conversationId === undefined ? {} : { conversation_id: conversationId }),
      parent_message_id: parentMessageId,
      model: "text-davinci-002-render-sha",
    }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

async function events(res: Response): Promise<WebEvent[]> {
  const payloads = parseSSE(await res.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  return payloads.slice(0, -1).map((data) => JSON.parse(data) as WebEvent);
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("startFakeChatGPTWeb", () => {
  it("serves POST {url}/conversation on 127.0.0.1 under /backend-api", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/backend-api$/);
  });

  it("streams cumulative parts, finishes successfully, and tracks the conversation across two turns", async () => {
    const first = await next({ prompt: "hello there friend", messageId: "user-1", parentMessageId: "root" });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const turn1 = await events(first);
    expect(turn1.length).toBeGreaterThan(2);
    const parts = turn1.map((event) => event.message.content.parts[0] ?? "");
    for (let index = 1; index < parts.length; index += 1) {
      expect(parts[index]?.startsWith(parts[index - 1] ?? "\u0000")).toBe(true);
    }
    expect(parts[0]).not.toBe(parts.at(-2));
    expect(parts.at(-1)).toBe("echo: hello there friend");
    expect(turn1.slice(0, -1).every((event) => event.message.status === "in_progress")).toBe(true);
    expect(turn1.at(-1)?.message).toMatchObject({
      author: { role: "assistant" },
      content: { content_type: "text" },
      status: "finished_successfully",
    });
    expect(turn1.every((event) => event.error === null)).toBe(true);
    const conversationId = turn1[0]?.conversation_id ?? "";
    expect(conversationId).toMatch(uuid);
    const replyId = turn1[0]?.message.id ?? "";
    expect(replyId).toMatch(uuid);
    expect(new Set(turn1.map((event) => `${event.conversation_id} ${event.message.id}`)).size).toBe(1);

    const second = await next({ prompt: "again", messageId: "user-2", parentMessageId: replyId, conversationId });
    const turn2 = await events(second);
    expect(turn2.at(-1)?.conversation_id).toBe(conversationId);
    expect(turn2.at(-1)?.message.content.parts[0]).toBe("echo: again");
    const reply2 = turn2.at(-1)?.message.id;
    expect(reply2).not.toBe(replyId);

    expect([...fake.conversations.keys()]).toEqual([conversationId]);
    expect(fake.conversations.get(conversationId)?.messages).toEqual([
      { id: "user-1", parentId: "root", role: "user", text: "hello there friend" },
      { id: replyId, parentId: "user-1", role: "assistant", text: "echo: hello there friend" },
      { id: "user-2", parentId: replyId, role: "user", text: "again" },
      { id: reply2, parentId: "user-2", role: "assistant", text: "echo: again" },
    ]);
    expect(fake.requests.map((request) => request.body.messages[0].id)).toEqual(["user-1", "user-2"]);
    expect(fake.requests[0]?.headers.authorization).toBe("Bearer access-token");
  });

  it("starts a new conversation for every request without conversation_id", async () => {
    const a = await events(await next({ prompt: "a", messageId: "m1", parentMessageId: "p" }));
    const b = await events(await next({ prompt: "b", messageId: "m2", parentMessageId: "p" }));
    expect(a[0]?.conversation_id).not.toBe(b[0]?.conversation_id);
    expect(fake.conversations.size).toBe(2);
  });

  it("uses the reply function", async () => {
    await fake.close();
    fake = await startFakeChatGPTWeb({ reply: (request) => `you said ${request.body.messages[0].content.parts[0]}` });
    const turn = await events(await next({ prompt: "x", messageId: "m", parentMessageId: "p" }));
    expect(turn.at(-1)?.message.content.parts).toEqual(["you said x"]);
  });

  it("answers 404 detail for an unknown conversation and 400 for a stale parent", async () => {
    const missing = await next({ prompt: "a", messageId: "m1", parentMessageId: "p", conversationId: "nope" });
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({ detail: "Conversation not found" });

    const turn = await events(await next({ prompt: "a", messageId: "m2", parentMessageId: "p" }));
    const conversationId = turn[0]?.conversation_id ?? "";
    const stale = await next({ prompt: "b", messageId: "m3", parentMessageId: "m2", conversationId });
    expect(stale.status).toBe(400);
    expect((await json(stale)).detail).toMatch(/parent_message_id/);
    expect(fake.conversations.get(conversationId)?.messages).toHaveLength(2);
  });

  it("validates the body: action next, a message id and parent_message_id", async () => {
    const post = (body: unknown) =>
      fetch(`${fake.url}/conversation`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: JSON.stringify(body),
      });
    const message = { id: "m", author: { role: "user" }, content: { content_type: "text", parts: ["hi"] } };
    for (const body of [
      { action: "variant", messages: [message], parent_message_id: "p" },
      { action: "next", messages: [{ ...message, id: undefined }], parent_message_id: "p" },
      { action: "next", messages: [message] },
      "not json",
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(typeof (await json(res)).detail).toBe("string");
    }
    expect(fake.conversations.size).toBe(0);
  });

  it("answers 401 detail without a bearer token and 404 detail for other paths", async () => {
    const res = await next({ prompt: "a", messageId: "m", parentMessageId: "p" }, { headers: { authorization: "" } });
    expect(res.status).toBe(401);
    expect(await json(res)).toEqual({ detail: expect.any(String) });
    const other = await fetch(`${fake.url}/models`, { headers: { authorization: "Bearer t" } });
    expect(other.status).toBe(404);
    expect(await json(other)).toEqual({ detail: "Not Found" });
  });
});

describe("startFakeChatGPTWeb: faults", () => {
  it("status: answers {detail} like the real service, with Retry-After", async () => {
    fake.enqueueFault(
      { kind: "status", status: 429, retryAfter: 3600 },
      { kind: "status", status: 401, message: "token expired" },
    );
    const limited = await next({ prompt: "a", messageId: "m", parentMessageId: "p" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3600");
    expect(await json(limited)).toEqual({ detail: "Too many requests in 1 hour. Try again later." });
    const expired = await next({ prompt: "a", messageId: "m", parentMessageId: "p" });
    expect(expired.status).toBe(401);
    expect(await json(expired)).toEqual({ detail: "token expired" });
    expect((await next({ prompt: "a", messageId: "m", parentMessageId: "p" })).status).toBe(200);
  });

  it("malformed: the event stream carries broken JSON", async () => {
    fake.enqueueFault({ kind: "malformed" });
    const payloads = parseSSE(await (await next({ prompt: "a", messageId: "m", parentMessageId: "p" })).text());
    expect(() => JSON.parse(payloads[0] ?? "")).toThrow(SyntaxError);
  });

  it("cut: some events, then a dropped connection", async () => {
    fake.enqueueFault({ kind: "cut" });
    const res = await next({ prompt: "one two three four", messageId: "m", parentMessageId: "p" });
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const data of readSSE(res.body as AsyncIterable<Uint8Array>)) received.push(data);
      })(),
    ).rejects.toThrow();
    expect(received.length).toBeGreaterThan(0);
    expect(received).not.toContain("[DONE]");
    expect(fake.abortedRequests).toBe(0);
  });

  it("error-event: part of the reply, then an event whose `error` is set, then [DONE]; the turn is not kept", async () => {
    fake.enqueueFault({ kind: "error-event", message: "Something went wrong" });
    const payloads = parseSSE(
      await (await next({ prompt: "one two three four", messageId: "m", parentMessageId: "p" })).text(),
    );
    expect(payloads.at(-1)).toBe("[DONE]");
    const parsed = payloads
      .slice(0, -1)
      .map((data) => JSON.parse(data) as { message: WebEvent["message"] | null; error: unknown });
    expect(parsed.at(-1)).toMatchObject({ message: null, error: "Something went wrong" });
    expect(parsed.slice(0, -1).every((event) => event.message?.status === "in_progress")).toBe(true);
    expect(fake.conversations.size).toBe(0);
  });

  it("unterminated: in-progress events only, then a clean end without [DONE]; the turn is not kept", async () => {
    fake.enqueueFault({ kind: "unterminated" });
    const payloads = parseSSE(await (await next({ prompt: "one two", messageId: "m", parentMessageId: "p" })).text());
    expect(payloads).not.toContain("[DONE]");
    const parsed = payloads.map((data) => JSON.parse(data) as WebEvent);
    expect(parsed.map((event) => event.message.status)).toEqual(parsed.map(() => "in_progress"));
    expect(parsed.at(-1)?.message.content.parts).toEqual(["echo: one two"]);
    expect(fake.conversations.size).toBe(0);
  });

  it("a conversation continues from its last complete reply after a faulted turn", async () => {
    const first = await events(await next({ prompt: "a", messageId: "m1", parentMessageId: "p" }));
    const conversationId = first[0]?.conversation_id ?? "";
    const replyId = first.at(-1)?.message.id ?? "";
    fake.enqueueFault({ kind: "cut" });
    await (await next({ prompt: "b", messageId: "m2", parentMessageId: replyId, conversationId }))
      .text()
      .catch(() => "");
    const retried = await events(
      await next({ prompt: "b", messageId: "m3", parentMessageId: replyId, conversationId }),
    );
    expect(retried.at(-1)?.message.status).toBe("finished_successfully");
    expect(fake.conversations.get(conversationId)?.messages.map((message) => message.id)).toEqual([
      "m1",
      replyId,
      "m3",
      retried.at(-1)?.message.id,
    ]);
  });

  it("hang: a client abort is counted", async () => {
    fake.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = next({ prompt: "a", messageId: "m", parentMessageId: "p" }, { signal: controller.signal });
    const deadline = Date.now() + 2000;
    while (fake.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fake.abortedRequests).toBe(0);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await fake.waitForAbort(2000);
    expect(fake.abortedRequests).toBe(1);
  });

  it("trickle: events intervalMs apart", async () => {
    fake.enqueueFault({ kind: "trickle", intervalMs: 40 });
    const started = Date.now();
    const res = await next({ prompt: "a b", messageId: "m", parentMessageId: "p" });
    const times: number[] = [];
    for await (const _ of readSSE(res.body as AsyncIterable<Uint8Array>)) times.push(Date.now());
    expect(times.length).toBe(5); // "echo:", " a", " b" in progress, then finished, then [DONE]
    expect((times.at(-1) ?? 0) - started).toBeGreaterThanOrEqual(4 * 40 - 5);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual((4 * 40) / 2);
  });
});
