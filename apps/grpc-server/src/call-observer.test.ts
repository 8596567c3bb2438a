import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { caught } from "@chatgptchatbot/testkit/testing";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it, vi } from "vitest";
import { serveScripted } from "../test/scripted-server.js";
import type { CallRecord } from "./call-observer.js";

const serve = serveScripted;

const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-call-observer" });
const CHAT = "muvtuber.chatbot.v2.ChatbotService/Chat";

describe("createGrpcServer onCall", () => {
  it("reports every RPC with its method, protocol and the status code the client got", async () => {
    const calls: CallRecord[] = [];
    const { url } = await serve({ onCall: (call) => calls.push(call) });
    const grpc = createClient(ChatbotService, createGrpcTransport({ baseUrl: url }));
    const web = createClient(ChatbotService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }));
    const connect = createClient(ChatbotService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));

    const { sessionId } = await grpc.newSession({ config: CONFIG });
    await web.chat({ sessionId, prompt: "hi" });
    expect(ConnectError.from(await caught(connect.chat({ sessionId: "no-such-session", prompt: "hi" }))).code).toBe(
      Code.NotFound,
    );

    expect(calls.map(({ method, protocol, code }) => [method, protocol, code])).toEqual([
      ["muvtuber.chatbot.v2.ChatbotService/NewSession", "grpc", "ok"],
      [CHAT, "grpc-web", "ok"],
      [CHAT, "connect", "not_found"],
    ]);
    for (const call of calls) expect(call.seconds).toBeGreaterThanOrEqual(0);
  });

  it("an observer that throws does not fail the call", async () => {
    const { url } = await serve({
      onCall: () => {
        throw new Error("metrics broke");
      },
    });
    const client = createClient(ChatbotService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
    await expect(client.newSession({ config: CONFIG })).resolves.toMatchObject({ sessionId: expect.any(String) });
  });

  it("reports a server-streaming call when its stream ends, not when it starts", async () => {
    const calls: CallRecord[] = [];
    const { server, url } = await serve({ onCall: (call) => calls.push(call) });
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    const stream = health.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false); // SERVING
    expect(calls).toEqual([]);
    server.health.shutdown(); // NOT_SERVING, then every Watch ends
    for (let next = await stream.next(); !next.done; next = await stream.next());
    await vi.waitFor(() =>
      expect(calls.map(({ method, protocol, code }) => [method, protocol, code])).toEqual([
        ["grpc.health.v1.Health/Watch", "grpc", "ok"],
      ]),
    );
  });
});
