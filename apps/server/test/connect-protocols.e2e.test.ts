/**
 * End to end with Connect clients over each protocol the one port serves
 * (gRPC, gRPC-web and Connect) and both HTTP versions where the protocol
 * allows it: the whole program, real backends, fake upstreams on 127.0.0.1.
 */
import { RetryInfoSchema } from "@chatgptchatbot/grpc-server";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { caught } from "@chatgptchatbot/testkit/testing";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProgram, startProgram } from "./program.js";

const TRANSPORTS: { name: string; protocol: string; http: string; make: (baseUrl: string) => Transport }[] = [
  { name: "gRPC over HTTP/2", protocol: "grpc", http: "2.0", make: (baseUrl) => createGrpcTransport({ baseUrl }) },
  {
    name: "gRPC-web over HTTP/1.1",
    protocol: "grpc-web",
    http: "1.1",
    make: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  },
  {
    name: "gRPC-web over HTTP/2",
    protocol: "grpc-web",
    http: "2.0",
    make: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
  },
  {
    name: "Connect over HTTP/1.1",
    protocol: "connect",
    http: "1.1",
    make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  },
  {
    name: "Connect over HTTP/2",
    protocol: "connect",
    http: "2.0",
    make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }),
  },
];

describe("one port, three protocols, two HTTP versions", () => {
  let openai: FakeOpenAI;
  let program: RunningProgram;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    program = await startProgram({ env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "20", CHATBOT_MAX_RETRIES: "0" } });
  });
  afterAll(async () => {
    expect(await program?.stop()).toBe(0);
    await openai?.close();
  });

  describe.each(TRANSPORTS)("$name", ({ name, protocol, http, make }) => {
    const apiKey = `sk-test-${protocol}-${http}-0001`;

    it("drives a session through its whole life, and the server saw this protocol and HTTP version", async () => {
      const client = createClient(ChatbotService, make(program.grpcUrl));
      const { sessionId, initialResponse } = await client.newSession({
        config: JSON.stringify({ version: 3, api_key: apiKey }),
        initialPrompt: "Be brief.",
      });
      expect(initialResponse).toBe("");
      expect((await client.chat({ sessionId, prompt: `hi over ${name}` })).response).toBe(`echo: hi over ${name}`);
      expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${apiKey}`);
      expect((await client.deleteSession({ sessionId })).sessionId).toBe(sessionId);

      const line = program.logs.findLast((l) => l.rpc === "ChatbotService/DeleteSession");
      expect(line).toMatchObject({ protocol, http, code: "ok", session: sessionId.slice(0, 8) });
    });

    it("streams ChatStream's sentences then the whole reply, and logs one line for the stream", async () => {
      const client = createClient(ChatbotService, make(program.grpcUrl));
      const { sessionId } = await client.newSession({
        config: JSON.stringify({ version: 3, api_key: `sk-test-${protocol}-${http}-0002` }),
      });
      const got: string[] = [];
      for await (const m of client.chatStream({ sessionId, prompt: "One. Two? Three!" })) {
        got.push(m.response === "" ? `sentence: ${m.sentence}` : `response: ${m.response}`);
      }
      expect(got).toEqual([
        "sentence: echo: One.",
        "sentence: Two?",
        "sentence: Three!",
        "response: echo: One. Two? Three!",
      ]);
      const again = ConnectError.from(
        await caught(
          (async () => {
            for await (const _ of client.chatStream({ sessionId, prompt: "too soon" })) got.push("unexpected");
          })(),
        ),
      );
      expect(again.code).toBe(Code.ResourceExhausted);
      const line = program.logs.findLast((l) => l.rpc === "ChatbotService/ChatStream" && l.code === "ok");
      expect(line).toMatchObject({ protocol, http, messages: 4, session: sessionId.slice(0, 8) });
      await client.deleteSession({ sessionId });
    });

    it("reports errors with the exact codes and messages", async () => {
      const client = createClient(ChatbotService, make(program.grpcUrl));
      const invalid = ConnectError.from(await caught(client.newSession({ config: "{}" })));
      expect(invalid.code).toBe(Code.InvalidArgument);
      expect(invalid.rawMessage).toBe(
        "version & access_token|api_key is required: config has no version (1 = access token, 3 = API key)",
      );
      expect(ConnectError.from(await caught(client.chat({ sessionId: "", prompt: "x" }))).code).toBe(
        Code.InvalidArgument,
      );
      expect(ConnectError.from(await caught(client.chat({ sessionId: "unknown", prompt: "x" }))).code).toBe(
        Code.NotFound,
      );
      expect(ConnectError.from(await caught(client.deleteSession({ sessionId: "unknown" }))).code).toBe(Code.NotFound);

      // The first lifecycle test used this key: it is cooling down now.
      const { sessionId } = await client.newSession({ config: JSON.stringify({ version: 3, api_key: apiKey }) });
      const cooling = ConnectError.from(await caught(client.chat({ sessionId, prompt: "again" })));
      expect(cooling.code).toBe(Code.ResourceExhausted);
      expect(cooling.rawMessage).toMatch(/^cooling down: try again in \d+ s$/);
      const [info] = cooling.findDetails(RetryInfoSchema) as { retryDelay?: { seconds: bigint } }[];
      expect(Number(info?.retryDelay?.seconds)).toBeGreaterThan(0);
      await client.deleteSession({ sessionId });
    });
  });

  it("answers a plain JSON POST (curl) with the Connect protocol over HTTP/1.1", async () => {
    const res = await fetch(`${program.grpcUrl}/muvtuber.chatbot.v2.ChatbotService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionId: "nope", prompt: "hi" }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "not_found", message: "session not found: nope" });
  });

  it("refuses a request message over 4 MiB with RESOURCE_EXHAUSTED", async () => {
    const client = createClient(
      ChatbotService,
      createConnectTransport({ baseUrl: program.grpcUrl, httpVersion: "1.1" }),
    );
    const error = ConnectError.from(
      await caught(client.chat({ sessionId: "x", prompt: "a".repeat(4 * 1024 * 1024 + 1) })),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(openai.requests.some((r) => JSON.stringify(r.body).length > 4 * 1024 * 1024)).toBe(false);
  });

  it("answers 404 to what is no RPC", async () => {
    expect((await fetch(`${program.grpcUrl}/`)).status).toBe(404);
  });
});
