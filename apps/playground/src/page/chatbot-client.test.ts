import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatbotClient, normalizeServerUrl, PROTOCOLS, parseProtocol } from "./chatbot-client.js";
import { describeError } from "./error-text.js";

describe("normalizeServerUrl", () => {
  it("keeps origin and path prefix, without a trailing slash, query or fragment", () => {
    expect(normalizeServerUrl(" http://127.0.0.1:50052/ ")).toBe("http://127.0.0.1:50052");
    expect(normalizeServerUrl("https://example.test/api/?x=1#y")).toBe("https://example.test/api");
  });

  it("refuses what is not an http(s) URL, and user info", () => {
    expect(() => normalizeServerUrl("localhost:50052")).toThrow(TypeError);
    expect(() => normalizeServerUrl("ftp://example.test")).toThrow(/http\(s\)/);
    expect(() => normalizeServerUrl("http://user:pw@example.test")).toThrow(/user info/);
    expect(() => normalizeServerUrl("")).toThrow(/not a URL/);
  });
});

describe("parseProtocol", () => {
  it("knows gRPC-web and defaults to Connect", () => {
    expect(parseProtocol("grpc-web")).toBe("grpc-web");
    expect(parseProtocol("connect")).toBe("connect");
    expect(parseProtocol("grpc")).toBe("connect");
  });
});

describe.each(PROTOCOLS)("createChatbotClient over %s", (protocol) => {
  let server: Server;
  let baseUrl: string;
  const seen: { method: string; body: unknown }[] = [];
  const contentTypes: (string | undefined)[] = [];
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    const adapter = connectNodeAdapter({
      routes(router) {
        router.service(ChatbotService, {
          newSession(request) {
            seen.push({ method: "NewSession", body: { config: request.config, initialPrompt: request.initialPrompt } });
            return { sessionId: "session-1", initialResponse: `hello, ${request.initialPrompt}` };
          },
          chat(request) {
            seen.push({ method: "Chat", body: { sessionId: request.sessionId, prompt: request.prompt } });
            if (request.prompt === "again")
              throw new ConnectError("cooling down: try again in 12 s", Code.ResourceExhausted);
            return { response: `echo: ${request.prompt}` };
          },
          deleteSession(request) {
            throw new ConnectError(`session not found: ${request.sessionId}`, Code.NotFound);
          },
        });
      },
    });
    server = createServer((req, res) => {
      contentTypes.push(req.headers["content-type"]);
      authorizations.push(req.headers.authorization);
      adapter(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("creates a session, chats and reads errors as the page shows them", async () => {
    const client = createChatbotClient({ serverUrl: baseUrl, protocol });
    const created = await client.newSession({
      config: '{"version":3,"api_key":"sk-test-x"}',
      initialPrompt: "you are a cat",
    });
    expect(created).toMatchObject({ sessionId: "session-1", initialResponse: "hello, you are a cat" });

    expect((await client.chat({ sessionId: "session-1", prompt: "hi" })).response).toBe("echo: hi");

    const cooldown = await client.chat({ sessionId: "session-1", prompt: "again" }).then(
      () => undefined,
      (error: unknown) => describeError(error),
    );
    expect(cooldown).toMatchObject({ codeName: "resource_exhausted", retryAfterSeconds: 12 });
    expect(cooldown?.text).toBe("[resource_exhausted] cooling down: try again in 12 s");

    const missing = await client.deleteSession({ sessionId: "gone" }).then(
      () => undefined,
      (error: unknown) => describeError(error),
    );
    expect(missing?.text).toBe("[not_found] session not found: gone");

    expect(seen.map((s) => s.method)).toEqual(["NewSession", "Chat", "Chat"]);
    expect(seen[0]?.body).toEqual({ config: '{"version":3,"api_key":"sk-test-x"}', initialPrompt: "you are a cat" });
    const expectedType = protocol === "grpc-web" ? "application/grpc-web+proto" : "application/json";
    expect(contentTypes).toEqual([expectedType, expectedType, expectedType, expectedType]);
    expect(authorizations).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("sends the server's access token as a Bearer authorization header on every call, when one is given", async () => {
    const before = authorizations.length;
    const client = createChatbotClient({ serverUrl: baseUrl, protocol, accessToken: " test-server-token-page-0001 " });
    await client.chat({ sessionId: "session-1", prompt: "hi" });
    await client.deleteSession({ sessionId: "gone" }).catch(() => undefined);
    expect(authorizations.slice(before)).toEqual([
      "Bearer test-server-token-page-0001",
      "Bearer test-server-token-page-0001",
    ]);
  });
});
