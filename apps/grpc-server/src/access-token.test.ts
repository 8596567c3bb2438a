import { SessionPool } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrpcServer, type GrpcServer } from "./server.js";

const TOKEN = "test-server-token-grpc-0001";
/** A stand-in for the program's check: the libraries only see a predicate. */
const authorize = (header: string | undefined): boolean => header === `Bearer ${TOKEN}`;

const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-guard" });

let pool: SessionPool;
let server: GrpcServer;
let publicMetricsServer: GrpcServer;
let url: string;

beforeAll(async () => {
  pool = new SessionPool({
    backends: () => new ScriptedBackend(),
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  const metrics = (_req: unknown, res: { writeHead(s: number): unknown; end(b: string): unknown }): void => {
    res.writeHead(200);
    res.end("metrics\n");
  };
  server = createGrpcServer({ pool, authorize, fallback: metrics });
  publicMetricsServer = createGrpcServer({ pool, authorize, publicMetrics: true, fallback: metrics });
  url = (await server.listen({ host: "127.0.0.1", port: 0 })).url;
  await publicMetricsServer.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await Promise.all([server?.close({ timeoutMs: 100 }), publicMetricsServer?.close({ timeoutMs: 100 })]);
  await pool?.close();
});

const TRANSPORTS = {
  grpc: () => createGrpcTransport({ baseUrl: url }),
  "grpc-web": () => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
  connect: () => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
} as const;

describe.each(Object.keys(TRANSPORTS) as (keyof typeof TRANSPORTS)[])("access tokens over %s", (protocol) => {
  const client = () => createClient(ChatbotService, TRANSPORTS[protocol]());

  it.each([
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer test-server-token-wrong-0001" }],
    ["the token without its scheme", { authorization: TOKEN }],
  ])("refuses an RPC with %s: UNAUTHENTICATED and www-authenticate: Bearer", async (_name, headers) => {
    const error = await client()
      .newSession({ config: CONFIG }, { headers })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.Unauthenticated);
    expect(error?.rawMessage).toBe("this server needs an access token: send authorization: Bearer <token>");
    expect(error?.metadata.get("www-authenticate")).toBe("Bearer");
  });

  it("serves an RPC with the token", async () => {
    const { sessionId } = await client().newSession(
      { config: CONFIG },
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(await pool.get(sessionId)).toBeDefined();
  });

  it("answers health without a token", async () => {
    const health = createClient(Health, TRANSPORTS[protocol]());
    expect((await health.check({ service: "" })).status).toBe(1); // SERVING
  });
});

describe("/metrics on the gRPC port", () => {
  it("needs the token, answering 401 with WWW-Authenticate: Bearer", async () => {
    const refused = await fetch(`${url}/metrics`);
    expect([refused.status, refused.headers.get("www-authenticate")]).toEqual([401, "Bearer"]);
    expect(await refused.text()).not.toContain("metrics");
    const wrong = await fetch(`${url}/metrics?x=1`, { headers: { authorization: "Bearer nope-nope-nope-nope" } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([ok.status, await ok.text()]).toEqual([200, "metrics\n"]);
  });

  it("is public with publicMetrics; other non-RPC paths (the playground) are public either way", async () => {
    expect((await fetch(`${publicMetricsServer.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(200);
  });
});
