/**
 * Issue 10's reproduced cases over the real transports (gRPC via grpc-js, and
 * Connect JSON via fetch), against the whole program and a fake upstream:
 * what a stranger sends gets a documented status with a short message, never
 * INTERNAL, never an oversized status (grpc-js refuses metadata over 8 KiB:
 * the client saw RESOURCE_EXHAUSTED or RST_STREAM), never a credential.
 */
import { MAX_ERROR_MESSAGE_CHARS } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health, HealthCheckResponse_ServingStatus } from "@chatgptchatbot/proto/health";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";

const { newSession: NewSession, chat: Chat, deleteSession: DeleteSession } = ChatbotService.method;
const KEY = "sk-test-input-bounds-0001";
const V3 = JSON.stringify({ version: 3, api_key: KEY });
const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;

let openai: FakeOpenAI;
let program: RunningProgram;
let client: GrpcJsClient;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  program = await startProgram({ env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "0" } });
  client = new GrpcJsClient(program.grpcUrl);
});
afterAll(async () => {
  client?.close();
  await program?.stop();
  await openai?.close();
});

/** A Connect JSON call with fetch, as curl would make it. */
async function connectJson(
  method: string,
  body: unknown,
): Promise<{ status: number; json: { code?: string; message?: string } }> {
  const res = await fetch(`${program.grpcUrl}/muvtuber.chatbot.v2.ChatbotService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
}

function expectBounded(details: string): void {
  expect(details.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
  expect(details).not.toContain("sk-test");
}

describe("special tokens are ordinary text, end to end", () => {
  it("Chat `say <|endoftext|> please` is OK, the reply (which holds it too) is stored, and the next Chat works", async () => {
    const { sessionId } = await client.unary(NewSession, { config: V3 });
    expect((await client.unary(Chat, { sessionId, prompt: "say <|endoftext|> please" })).response).toBe(
      "echo: say <|endoftext|> please",
    );
    expect((await client.unary(Chat, { sessionId, prompt: "again" })).response).toBe("echo: again");
    const sent = openai.requests.at(-1)?.body as { messages: { content: string }[] };
    expect(sent.messages.map((m) => m.content)).toContain("echo: say <|endoftext|> please");
  });

  it("as an initial prompt (gRPC and Connect)", async () => {
    const { sessionId } = await client.unary(NewSession, { config: V3, initialPrompt: "End with <|endoftext|>" });
    expect((await client.unary(Chat, { sessionId, prompt: "hi" })).response).toBe("echo: hi");
    const viaConnect = await connectJson("NewSession", { config: V3, initialPrompt: "<|im_start|>system" });
    expect(viaConnect.status).toBe(200);
  });
});

describe("prompt size limits", () => {
  it("a 100 kB prompt of x is INVALID_ARGUMENT at once, and health is answered meanwhile", async () => {
    const { sessionId } = await client.unary(NewSession, { config: V3 });
    const before = openai.requests.length;
    const chats = Array.from({ length: 5 }, () =>
      grpcError(client.unary(Chat, { sessionId, prompt: "x".repeat(100_000) })),
    );
    const health = await client.unary(Health.method.check, { service: "" });
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    for (const error of await Promise.all(chats)) {
      expect([error.code, error.details]).toEqual([
        grpc.status.INVALID_ARGUMENT,
        "prompt is too long: the limit is 4000 characters",
      ]);
    }
    expect(openai.requests.length).toBe(before);
  });

  it("an initial prompt over the limit is INVALID_ARGUMENT (Connect: 400)", async () => {
    const viaGrpc = await grpcError(client.unary(NewSession, { config: V3, initialPrompt: "字".repeat(10_001) }));
    expect([viaGrpc.code, viaGrpc.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      "initial_prompt is too long: the limit is 10000 characters",
    ]);
    const viaConnect = await connectJson("NewSession", { config: V3, initialPrompt: "字".repeat(10_001) });
    expect([viaConnect.status, viaConnect.json.code]).toEqual([400, "invalid_argument"]);
  });
});

describe("credentials that could never be sent", () => {
  it.each([
    ["a NUL", "sk-test-nul\u0000x", "api_key must be visible ASCII only"],
    ["Cyrillic", "sk-test-ключ", "api_key must be visible ASCII only"],
    ["a single space", " ", "api_key must not be empty or only whitespace"],
  ])(
    "an api_key with %s is INVALID_ARGUMENT at NewSession, naming the field, never the value",
    async (_name, key, reason) => {
      const error = await grpcError(client.unary(NewSession, { config: JSON.stringify({ version: 3, api_key: key }) }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toContain(reason);
      expectBounded(error.details);
    },
  );
});

describe("client values in status messages are short", () => {
  it.each([20_000, 200_000])("a %i-character version is INVALID_ARGUMENT with a short message", async (length) => {
    const config = JSON.stringify({ version: "v".repeat(length), api_key: KEY });
    const error = await grpcError(client.unary(NewSession, { config }));
    const quoted = `"${"v".repeat(40)}…" (${length} characters)`;
    expect([error.code, error.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      `version & access_token|api_key is required: unsupported version ${quoted}: use 1 (access token) or 3 (API key)`,
    ]);
  });

  it("a version nested 10,000 deep is INVALID_ARGUMENT, not INTERNAL", async () => {
    const error = await grpcError(
      client.unary(NewSession, { config: `{"version": ${nested(10_000)}, "api_key": "${KEY}"}` }),
    );
    expect([error.code, error.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      "version & access_token|api_key is required: config nests deeper than 32 levels",
    ]);
  });

  it("a 100,000-character session_id on Chat and DeleteSession is INVALID_ARGUMENT with a short message (gRPC and Connect)", async () => {
    const id = "i".repeat(100_000);
    const expected = "session_id is longer than 128 characters";
    const chat = await grpcError(client.unary(Chat, { sessionId: id, prompt: "hi" }));
    expect([chat.code, chat.details]).toEqual([grpc.status.INVALID_ARGUMENT, expected]);
    const del = await grpcError(client.unary(DeleteSession, { sessionId: id }));
    expect([del.code, del.details]).toEqual([grpc.status.INVALID_ARGUMENT, expected]);
    expect(await connectJson("Chat", { sessionId: id, prompt: "hi" })).toEqual({
      status: 400,
      json: { code: "invalid_argument", message: expected },
    });
  });

  it("an unknown session_id of a normal length stays NOT_FOUND, quoted short", async () => {
    const id = "n".repeat(128);
    const chat = await grpcError(client.unary(Chat, { sessionId: id, prompt: "hi" }));
    expect([chat.code, chat.details]).toEqual([
      grpc.status.NOT_FOUND,
      `session not found: "${"n".repeat(40)}…" (128 characters)`,
    ]);
  });

  it("a 100,000-character health service name is NOT_FOUND with a short message", async () => {
    const error = await grpcError(client.unary(Health.method.check, { service: "h".repeat(100_000) }));
    expect([error.code, error.details]).toEqual([
      grpc.status.NOT_FOUND,
      `unknown service "${"h".repeat(40)}…" (100000 characters)`,
    ]);
  });

  it("the program logged none of it at error level", () => {
    expect(program.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});
