import { create } from "@bufbuild/protobuf";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  DeleteSessionRequestSchema,
  DeleteSessionResponseSchema,
  NewSessionRequestSchema,
  NewSessionResponseSchema,
} from "@chatgptchatbot/proto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FastUpstream, startFastUpstream, WORKLOAD_REPLY } from "./fast-upstream.js";
import { callUnary } from "./grpc-unary.js";
import { type ChatMessage, dropOldestTurns, type ReferenceServer, startReferenceServer } from "./reference-server.js";

const PERSONA = "You are a test persona.";
const API_KEY = "sk-test-reference";

let upstream: FastUpstream;
let reference: ReferenceServer;
let client: grpc.Client;

beforeAll(async () => {
  upstream = await startFastUpstream({ reply: WORKLOAD_REPLY });
  reference = await startReferenceServer({ defaultSystemPrompt: PERSONA, defaultModel: "gpt-test" });
  client = new grpc.Client(reference.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await reference.close();
  await upstream.close();
});

const newSession = async (baseUrl = `${upstream.origin}/pieces-8/v1`): Promise<string> =>
  (
    await callUnary({
      client,
      method: "NewSession",
      input: NewSessionRequestSchema,
      output: NewSessionResponseSchema,
      message: create(NewSessionRequestSchema, { config: JSON.stringify({ api_key: API_KEY, base_url: baseUrl }) }),
    })
  ).sessionId;

const chat = async (sessionId: string, prompt: string): Promise<string> =>
  (
    await callUnary({
      client,
      method: "Chat",
      input: ChatRequestSchema,
      output: ChatResponseSchema,
      message: create(ChatRequestSchema, { sessionId, prompt }),
    })
  ).response;

const deleteSession = (sessionId: string) =>
  callUnary({
    client,
    method: "DeleteSession",
    input: DeleteSessionRequestSchema,
    output: DeleteSessionResponseSchema,
    message: create(DeleteSessionRequestSchema, { sessionId }),
  });

interface SentBody {
  model: string;
  stream: boolean;
  messages: ChatMessage[];
}
const lastBody = (): SentBody => JSON.parse(upstream.lastChatBody!.toString("utf8")) as SentBody;
const chars = (messages: readonly ChatMessage[]) => messages.reduce((sum, m) => sum + m.content.length, 0);

describe("dropOldestTurns", () => {
  const m = (role: ChatMessage["role"], content: string): ChatMessage => ({ role, content });

  it("drops whole turns, oldest first, until characters / 4 fit, keeping the system prompt and the new prompt", () => {
    const messages = [m("system", "ssss"), m("user", "u1u1"), m("assistant", "a1a1"), m("user", "u2u2")];
    messages.push(m("assistant", "a2a2"), m("user", "u3u3"));
    // 24 characters = 6 tokens; a budget of 4 tokens (16 characters) keeps the system prompt and two turns' worth.
    const left = dropOldestTurns(messages, chars(messages), 4);
    expect(messages.map((x) => x.content)).toEqual(["ssss", "u2u2", "a2a2", "u3u3"]);
    expect(left).toBe(16);
  });

  it("never drops the system prompt or the new prompt, however small the budget", () => {
    const messages = [m("system", "s".repeat(100)), m("user", "u1"), m("assistant", "a1"), m("user", "u2")];
    dropOldestTurns(messages, chars(messages), 1);
    expect(messages.map((x) => x.role)).toEqual(["system", "user"]);
  });
});

describe("reference server", () => {
  it("answers NewSession, Chat (the streamed deltas joined) and DeleteSession over grpc-js", async () => {
    const sessionId = await newSession();
    expect(sessionId).not.toBe("");
    expect(await chat(sessionId, "hello there")).toBe(WORKLOAD_REPLY);
    expect(upstream.lastChatAuthorization).toBe(`Bearer ${API_KEY}`);
    expect(lastBody()).toEqual({
      model: "gpt-test",
      stream: true,
      messages: [
        { role: "system", content: PERSONA },
        { role: "user", content: "hello there" },
      ],
    });
    // The token-sized variant joins to the same reply.
    const tokens = await newSession(`${upstream.origin}/pieces-tokens/v1`);
    expect(await chat(tokens, "hi")).toBe(WORKLOAD_REPLY);

    expect((await deleteSession(sessionId)).sessionId).toBe(sessionId);
    await expect(chat(sessionId, "still there?")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(deleteSession(sessionId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await deleteSession(tokens);
  });

  it("caps a session's history at 3000 tokens (characters / 4), the newest turns kept in order", async () => {
    const sessionId = await newSession();
    const turns = 80;
    for (let i = 0; i < turns; i++) await chat(sessionId, `comment number ${i}: what are we playing today?`);
    const { messages } = lastBody();
    const total = chars(messages);
    const turnChars = `comment number ${turns - 1}: what are we playing today?`.length + WORKLOAD_REPLY.length;
    expect(total / 4).toBeLessThanOrEqual(3000);
    // Full: one more turn would not have fitted.
    expect((total + turnChars) / 4).toBeGreaterThan(3000);
    expect(messages[0]).toEqual({ role: "system", content: PERSONA });
    const prompts = messages.filter((x) => x.role === "user").map((x) => Number(/number (\d+)/.exec(x.content)![1]));
    expect(prompts.at(-1)).toBe(turns - 1);
    expect(prompts[0]).toBeGreaterThan(0);
    expect(prompts).toEqual(prompts.map((_, i) => prompts[0]! + i));
    expect(messages.slice(1).map((x) => x.role)).toEqual(
      prompts.flatMap((_, i) => (i === 0 ? ["user"] : ["assistant", "user"])),
    );
    await deleteSession(sessionId);
  });

  it("runs one chat at a time per session: the second prompt's request carries the first turn", async () => {
    const sessionId = await newSession();
    const replies = await Promise.all([chat(sessionId, "first"), chat(sessionId, "second")]);
    expect(replies).toEqual([WORKLOAD_REPLY, WORKLOAD_REPLY]);
    expect(lastBody().messages).toEqual([
      { role: "system", content: PERSONA },
      { role: "user", content: "first" },
      { role: "assistant", content: WORKLOAD_REPLY },
      { role: "user", content: "second" },
    ]);
    await deleteSession(sessionId);
  });

  it("answers UNAVAILABLE when the upstream cannot be reached", async () => {
    const gone = await startFastUpstream();
    await gone.close();
    const sessionId = await newSession(`${gone.origin}/v1`);
    await expect(chat(sessionId, "anyone?")).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await deleteSession(sessionId);
  });
});
