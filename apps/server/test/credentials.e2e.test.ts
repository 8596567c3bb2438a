/**
 * The server's default credential and the upstream allowlist, end to end:
 * the operator's key serves sessions whose config has none, and is only ever
 * sent to the endpoint the operator configured (API_URL).
 */
import { maskSecret } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";

const { newSession: NewSession, chat: Chat } = ChatbotService.method;
const SERVER_KEY = "sk-test-operator-default-key-0001";
const CLIENT_KEY = "sk-test-client-own-key-0002";

/** Every Authorization header any of the fakes received. */
const authorizations = (...fakes: (FakeOpenAI | FakeChatGPTWeb)[]) =>
  fakes.flatMap((f) => f.requests.map((r) => r.headers.authorization));

describe("the server-side default credential", () => {
  let operator: FakeOpenAI; // the endpoint the operator configured
  let elsewhere: FakeOpenAI; // a host a client names in base_url
  let program: RunningProgram;
  let client: GrpcJsClient;

  beforeAll(async () => {
    operator = await startFakeOpenAI();
    elsewhere = await startFakeOpenAI();
    program = await startProgram({
      env: { API_URL: operator.url, OPENAI_API_KEY: SERVER_KEY, CHATGPT_V3_COOLDOWN: "0" },
    });
    client = new GrpcJsClient(program.grpcUrl);
  });
  afterAll(async () => {
    client?.close();
    await program?.stop();
    await operator?.close();
    await elsewhere?.close();
  });

  it("serves a session whose config is empty or has no key, with the operator's key, at the operator's endpoint", async () => {
    for (const config of ["", '{"version": 3}']) {
      const { sessionId } = await client.unary(NewSession, { config });
      expect((await client.unary(Chat, { sessionId, prompt: "hello" })).response).toBe("echo: hello");
      expect(operator.requests.at(-1)?.headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    }
  });

  it("refuses a config that names its own base_url without bringing its own key, and sends nothing there", async () => {
    const error = await grpcError(
      client.unary(NewSession, { config: JSON.stringify({ version: 3, base_url: elsewhere.url }) }),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toBe(
      "version & access_token|api_key is required: a config that sets base_url must bring its own credential",
    );
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("sends a client's own key to the client's base_url, and never the operator's", async () => {
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, base_url: elsewhere.url, api_key: CLIENT_KEY }),
    });
    expect((await client.unary(Chat, { sessionId, prompt: "hi" })).response).toBe("echo: hi");
    expect(authorizations(elsewhere)).toEqual([`Bearer ${CLIENT_KEY}`]);
    expect(authorizations(operator).every((a) => a === `Bearer ${SERVER_KEY}`)).toBe(true);
  });

  it("allows only same-origin browsers when CHATBOT_CORS_ORIGINS is unset, so other sites cannot spend the key", async () => {
    const rpc = `${program.grpcUrl}/muvtuber.chatbot.v2.ChatbotService/NewSession`;
    const preflight = await fetch(rpc, {
      method: "OPTIONS",
      headers: {
        origin: "https://other.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const sameOrigin = await fetch(rpc, {
      method: "POST",
      headers: { origin: program.grpcUrl, "content-type": "application/json" },
      body: JSON.stringify({ config: "" }),
    });
    expect(sameOrigin.status).toBe(200);
    expect(await sameOrigin.json()).toMatchObject({ sessionId: expect.any(String) });
    expect(sameOrigin.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("never logs either key unmasked", () => {
    const text = JSON.stringify(program.logs);
    expect(text).not.toContain(SERVER_KEY);
    expect(text).not.toContain(CLIENT_KEY);
    expect(program.logs.find((l) => l.msg === "listening")?.defaultApiKeys).toEqual(["sk-te…0001"]);
  });
});

describe("the server-side default access token", () => {
  const SERVER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-operator-default-token-0001";
  const CLIENT_TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-client-own-token-0002";
  let operator: FakeChatGPTWeb; // the reverse proxy the operator configured (CHATGPT_BASE_URL)
  let elsewhere: FakeChatGPTWeb; // a reverse proxy a client names in base_url
  let program: RunningProgram;
  let client: GrpcJsClient;

  beforeAll(async () => {
    operator = await startFakeChatGPTWeb();
    elsewhere = await startFakeChatGPTWeb();
    program = await startProgram({
      env: { CHATGPT_BASE_URL: operator.url, CHATGPT_ACCESS_TOKEN: SERVER_TOKEN, CHATGPT_COOLDOWN: "0" },
    });
    client = new GrpcJsClient(program.grpcUrl);
  });
  afterAll(async () => {
    client?.close();
    await program?.stop();
    await operator?.close();
    await elsewhere?.close();
  });

  it("serves a version-1 session with no token, with the operator's token, at the operator's reverse proxy", async () => {
    const { sessionId } = await client.unary(NewSession, { config: '{"version": 1}' });
    expect((await client.unary(Chat, { sessionId, prompt: "hello" })).response).toBe("echo: hello");
    expect(authorizations(operator)).toEqual([`Bearer ${SERVER_TOKEN}`]);
  });

  it("refuses a version-1 config that names its own base_url without bringing its own token, and sends nothing there", async () => {
    const error = await grpcError(
      client.unary(NewSession, { config: JSON.stringify({ version: 1, base_url: elsewhere.url }) }),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toBe(
      "version & access_token|api_key is required: a config that sets base_url must bring its own credential",
    );
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("sends a client's own token to the client's base_url, and never the operator's", async () => {
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 1, base_url: elsewhere.url, access_token: CLIENT_TOKEN }),
    });
    expect((await client.unary(Chat, { sessionId, prompt: "hi" })).response).toBe("echo: hi");
    expect(authorizations(elsewhere)).toEqual([`Bearer ${CLIENT_TOKEN}`]);
    expect(authorizations(operator).every((a) => a === `Bearer ${SERVER_TOKEN}`)).toBe(true);
  });

  it("never logs either token unmasked", () => {
    const text = JSON.stringify(program.logs);
    expect(text).not.toContain(SERVER_TOKEN);
    expect(text).not.toContain(CLIENT_TOKEN);
    expect(program.logs.find((l) => l.msg === "listening")?.defaultAccessTokens).toEqual([maskSecret(SERVER_TOKEN)]);
  });
});

describe("the allowlist of upstream hosts", () => {
  let allowed: FakeOpenAI;
  let other: FakeOpenAI;
  let program: RunningProgram;
  let client: GrpcJsClient;

  beforeAll(async () => {
    allowed = await startFakeOpenAI();
    other = await startFakeOpenAI();
    program = await startProgram({
      env: { CHATBOT_ALLOWED_UPSTREAM_HOSTS: new URL(allowed.url).host, CHATGPT_V3_COOLDOWN: "0" },
    });
    client = new GrpcJsClient(program.grpcUrl);
  });
  afterAll(async () => {
    client?.close();
    await program?.stop();
    await allowed?.close();
    await other?.close();
  });

  it("refuses a base_url outside the allowlist", async () => {
    const error = await grpcError(
      client.unary(NewSession, { config: JSON.stringify({ version: 3, api_key: CLIENT_KEY, base_url: other.url }) }),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain(`base_url host ${new URL(other.url).host} is not in the server's allowlist`);
    expect(other.requests).toHaveLength(0);
  });

  it("accepts a base_url on the allowlist", async () => {
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: CLIENT_KEY, base_url: allowed.url }),
    });
    expect((await client.unary(Chat, { sessionId, prompt: "ok?" })).response).toBe("echo: ok?");
    expect(allowed.requests).toHaveLength(1);
  });
});
