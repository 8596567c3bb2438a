import { SessionPool } from "@chatgptchatbot/core";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type CreateHttpAppOptions, createHttpApp } from "./app.js";
import type { CallRecord } from "./call-observer.js";

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function app(options: Omit<CreateHttpAppOptions, "pool"> = {}) {
  const pool = new SessionPool({
    backends: () => new ScriptedBackend(),
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 60_000 },
    configDefaults: { apiKeys: ["sk-test-http-call-observer"] },
  });
  pools.push(pool);
  return createHttpApp({ pool, ...options });
}

describe("createHttpApp onCall", () => {
  it("reports each request by route and status; unknown paths as 'other'", async () => {
    const calls: CallRecord[] = [];
    const api = app({ onCall: (call) => calls.push(call) });
    expect((await api.request("/ask", { method: "POST", body: '{"prompt":"hi"}' })).status).toBe(200);
    expect((await api.request("/ask", { method: "POST", body: '{"prompt":"again"}' })).status).toBe(429); // cooling down
    expect((await api.request("/ask", { method: "POST", body: "{" })).status).toBe(400);
    expect((await api.request("/healthz")).status).toBe(200);
    expect((await api.request("/wp-admin/secret-1234")).status).toBe(404);
    expect(calls.map(({ method, protocol, code }) => [method, protocol, code])).toEqual([
      ["/ask", "http", "200"],
      ["/ask", "http", "429"],
      ["/ask", "http", "400"],
      ["/healthz", "http", "200"],
      ["other", "http", "404"],
    ]);
    for (const call of calls) expect(call.seconds).toBeGreaterThanOrEqual(0);
  });
});

describe("createHttpApp metrics", () => {
  it("serves GET /metrics from the source; 405 for POST", async () => {
    const api = app({
      metrics: async () => ({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "up 1\n" }),
    });
    const res = await api.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await res.text()).toBe("up 1\n");
    expect((await api.request("/metrics", { method: "POST" })).status).toBe(405);
  });

  it("404 without a source; 503 when the source fails", async () => {
    expect((await app().request("/metrics")).status).toBe(404);
    const failing = app({
      metrics: async () => {
        throw new Error("collect failed");
      },
    });
    expect((await failing.request("/metrics")).status).toBe(503);
  });
});
