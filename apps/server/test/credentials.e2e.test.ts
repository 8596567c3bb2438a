/**
 * The server's default credentials and the upstream allowlist, end to end:
 * the operator's key (or access token) serves sessions whose config has none,
 * and is only ever sent to the endpoint the operator configured (API_URL, or
 * CHATGPT_BASE_URL for a token).
 */
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";

const { newSession: NewSession, chat: Chat } = ChatbotService.method;
const SERVER_KEY = "sk-test-operator-default-key-0001";
const CLIENT_KEY = "sk-test-client-own-key-0002";
const SERVER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-operator-default-token-0001";
const CLIENT_TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-client-own-token-0002";

type Upstream = FakeOpenAI | FakeChatGPTWeb;

/** Every Authorization header an upstream received. */
const authorizations = (upstream: Upstream) => upstream.requests.map((r) => r.headers.authorization);

/** What a suite's tests share; set by the suite's beforeAll. */
interface ProgramBesideTwoUpstreams {
  /** The upstream the operator's environment names (its endpoint, or the one host on the allowlist). */
  configured: Upstream;
  /** Another upstream of the same kind, which a client names in base_url. */
  other: Upstream;
  program: RunningProgram;
  client: GrpcJsClient;
}

/** Starts two upstreams and the program with `env(the first one's URL)` before the suite, and closes all after it. */
function programBesideTwoUpstreams({
  startUpstream,
  env,
}: {
  startUpstream: () => Promise<Upstream>;
  env: (configuredUrl: string) => Record<string, string>;
}): ProgramBesideTwoUpstreams {
  const suite = {} as ProgramBesideTwoUpstreams;
  beforeAll(async () => {
    suite.configured = await startUpstream();
    suite.other = await startUpstream();
    suite.program = await startProgram({ env: env(suite.configured.url) });
    suite.client = new GrpcJsClient(suite.program.grpcUrl);
  });
  afterAll(async () => {
    suite.client?.close();
    await suite.program?.stop();
    await suite.configured?.close();
    await suite.other?.close();
  });
  return suite;
}

/** The two kinds of server-side default credential: each the same promises, at its own endpoint. */
const DEFAULT_CREDENTIALS = [
  {
    kind: "API key",
    version: 3,
    field: "api_key",
    serverSecret: SERVER_KEY,
    clientSecret: CLIENT_KEY,
    startUpstream: () => startFakeOpenAI(),
    env: (url: string) => ({ API_URL: url, OPENAI_API_KEY: SERVER_KEY, CHATGPT_V3_COOLDOWN: "0" }),
    /** Configs that bring no credential of their own: empty, or naming the version only. */
    configsWithout: ["", '{"version": 3}'],
    listedAs: "defaultApiKeys",
    masked: "sk-te…0001",
  },
  {
    kind: "access token",
    version: 1,
    field: "access_token",
    serverSecret: SERVER_TOKEN,
    clientSecret: CLIENT_TOKEN,
    startUpstream: () => startFakeChatGPTWeb(),
    env: (url: string) => ({ CHATGPT_BASE_URL: url, CHATGPT_ACCESS_TOKEN: SERVER_TOKEN, CHATGPT_COOLDOWN: "0" }),
    configsWithout: ['{"version": 1}'],
    listedAs: "defaultAccessTokens",
    masked: "eyJhb…0001",
  },
] as const;

for (const credential of DEFAULT_CREDENTIALS) {
  describe(`the server-side default ${credential.kind}`, () => {
    const { kind, version, field, serverSecret, clientSecret } = credential;
    const suite = programBesideTwoUpstreams(credential);

    it(`serves a session whose config has no ${kind}, with the operator's ${kind}, at the operator's endpoint`, async () => {
      for (const config of credential.configsWithout) {
        const { sessionId } = await suite.client.unary(NewSession, { config });
        expect((await suite.client.unary(Chat, { sessionId, prompt: "hello" })).response).toBe("echo: hello");
        expect(authorizations(suite.configured).at(-1)).toBe(`Bearer ${serverSecret}`);
      }
      expect(authorizations(suite.configured)).toEqual(credential.configsWithout.map(() => `Bearer ${serverSecret}`));
    });

    it(`refuses a config that names its own base_url without bringing its own ${kind}, and sends nothing there`, async () => {
      const error = await grpcError(
        suite.client.unary(NewSession, { config: JSON.stringify({ version, base_url: suite.other.url }) }),
      );
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toBe(
        "version & access_token|api_key is required: a config that sets base_url must bring its own credential",
      );
      expect(suite.other.requests).toHaveLength(0);
    });

    it(`sends a client's own ${kind} to the client's base_url, and never the operator's`, async () => {
      const { sessionId } = await suite.client.unary(NewSession, {
        config: JSON.stringify({ version, base_url: suite.other.url, [field]: clientSecret }),
      });
      expect((await suite.client.unary(Chat, { sessionId, prompt: "hi" })).response).toBe("echo: hi");
      expect(authorizations(suite.other)).toEqual([`Bearer ${clientSecret}`]);
      expect(authorizations(suite.configured).every((a) => a === `Bearer ${serverSecret}`)).toBe(true);
    });

    it(`allows only same-origin browsers when CHATBOT_CORS_ORIGINS is unset, so other sites cannot spend the ${kind}`, async () => {
      const rpc = `${suite.program.grpcUrl}/muvtuber.chatbot.v2.ChatbotService/NewSession`;
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
        headers: { origin: suite.program.grpcUrl, "content-type": "application/json" },
        body: JSON.stringify({ config: credential.configsWithout[0] }),
      });
      expect(sameOrigin.status).toBe(200);
      expect(await sameOrigin.json()).toMatchObject({ sessionId: expect.any(String) });
      expect(sameOrigin.headers.get("access-control-allow-origin")).toBeNull();
    });

    it(`never logs either ${kind} unmasked`, () => {
      const text = JSON.stringify(suite.program.logs);
      expect(text).not.toContain(serverSecret);
      expect(text).not.toContain(clientSecret);
      expect(suite.program.logs.find((l) => l.msg === "listening")?.[credential.listedAs]).toEqual([credential.masked]);
    });
  });
}

describe("the allowlist of upstream hosts", () => {
  const suite = programBesideTwoUpstreams({
    startUpstream: () => startFakeOpenAI(),
    env: (url) => ({ CHATBOT_ALLOWED_UPSTREAM_HOSTS: new URL(url).host, CHATGPT_V3_COOLDOWN: "0" }),
  });

  it("refuses a base_url outside the allowlist", async () => {
    const { client, other } = suite;
    const error = await grpcError(
      client.unary(NewSession, { config: JSON.stringify({ version: 3, api_key: CLIENT_KEY, base_url: other.url }) }),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain(`base_url host ${new URL(other.url).host} is not in the server's allowlist`);
    expect(other.requests).toHaveLength(0);
  });

  it("accepts a base_url on the allowlist", async () => {
    const { sessionId } = await suite.client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: CLIENT_KEY, base_url: suite.configured.url }),
    });
    expect((await suite.client.unary(Chat, { sessionId, prompt: "ok?" })).response).toBe("echo: ok?");
    expect(suite.configured.requests).toHaveLength(1);
  });
});
