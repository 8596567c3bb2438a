import { SessionPool } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { caught, ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CallRecord } from "./call-observer.js";
import { createGrpcServer, type GrpcServer } from "./server.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function serve(
  options: Omit<Parameters<typeof createGrpcServer>[0], "pool">,
): Promise<{ server: GrpcServer; url: string }> {
  const pool = new SessionPool({
    backends: () => new ScriptedBackend(),
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0 },
  });
  const server = createGrpcServer({ pool, ...options });
  const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
  cleanup.push(
    () => pool.close(),
    () => server.close({ timeoutMs: 100 }),
  );
  return { server, url };
}

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
