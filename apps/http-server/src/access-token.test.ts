import { SessionPool } from "@chatgptchatbot/core";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { accessToken } from "./access-token.js";
import { createHttpApp } from "./app.js";

const TOKEN = "test-server-token-http-0001";
/** A stand-in for the program's check: the library only sees a predicate. */
const authorize = (header: string | undefined): boolean => header === `Bearer ${TOKEN}`;

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function app() {
  const backend = new ScriptedBackend();
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
    configDefaults: { apiKeys: ["sk-test-http-token-default"] },
  });
  pools.push(pool);
  return { app: createHttpApp({ pool, authorize }), backend };
}

describe("access tokens on the HTTP API", () => {
  it.each([
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer test-server-token-wrong-0001" }],
    ["another scheme", { authorization: `Basic ${TOKEN}` }],
  ])("refuses /ask with %s: 401, WWW-Authenticate: Bearer, the upstream untouched", async (_name, headers) => {
    const { app: api, backend } = app();
    const res = await api.request("/ask", { method: "POST", body: JSON.stringify({ prompt: "hi" }), headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await res.text()).toBe("this server needs an access token: send Authorization: Bearer <token>");
    expect(backend.requests).toHaveLength(0);
  });

  it("refuses /renew and unknown paths without a token, serves /healthz", async () => {
    const { app: api } = app();
    const renew = await api.request("/renew", {
      method: "POST",
      body: JSON.stringify({ api_key: "sk-test-x", version: 3 }),
    });
    expect(renew.status).toBe(401);
    expect((await api.request("/nowhere")).status).toBe(401);
    const health = await api.request("/healthz");
    expect([health.status, await health.text()]).toEqual([200, "ok"]);
  });

  it("serves /ask with the token", async () => {
    const { app: api, backend } = app();
    const res = await api.request("/ask", {
      method: "POST",
      body: JSON.stringify({ prompt: "hi" }),
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(backend.requests).toHaveLength(1);
  });
});

describe("accessToken", () => {
  it("lets listed public paths through (/metrics when it is public)", async () => {
    const api = new Hono()
      .use(accessToken({ authorize, publicPaths: ["/healthz", "/metrics"] }))
      .get("/metrics", (c) => c.text("metrics"))
      .get("/secret", (c) => c.text("secret"));
    expect((await api.request("/metrics")).status).toBe(200);
    expect((await api.request("/secret")).status).toBe(401);
  });
});
