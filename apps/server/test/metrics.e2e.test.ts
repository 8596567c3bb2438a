/**
 * GET /metrics of the built program, on the gRPC port and on the HTTP API's
 * port: the exposition passes `promtool check metrics`, and the counters move
 * after a Chat over gRPC and an /ask (calls, upstream requests, tokens,
 * cooldown refusals, store operations, sessions held). CHATBOT_METRICS=false:
 * 404 on both. The README's scrape configuration passes `promtool check config`.
 * Needs `pnpm build` and Debian's `prometheus` package (promtool).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type BuiltProgram, startBuiltProgram } from "./built-program.js";
import { GrpcJsClient } from "./grpc-js-client.js";
import { hasMetric, promtool, sampleValue } from "./prometheus-text.js";

const SERVER_KEY = "sk-test-metrics-server-0001";
const SESSION_KEY = "sk-test-metrics-session-0002";
const CHAT = "muvtuber.chatbot.v2.ChatbotService/Chat";
/** promtool's lint lines about prom-client's default Node metrics (not ours, names fixed by the library). */
const PROM_CLIENT_DEFAULTS_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

let openai: FakeOpenAI | undefined;
let program: BuiltProgram | undefined;
let client: GrpcJsClient | undefined;
afterEach(async () => {
  client?.close();
  await program?.stop();
  await openai?.close();
  client = program = openai = undefined;
});

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe("GET /metrics (the built program)", () => {
  it("is valid Prometheus text on both ports, and its counters move after a Chat over gRPC and an /ask", async () => {
    openai = await startFakeOpenAI({ reply: () => "Hello there. How are you today?" });
    program = await startBuiltProgram({ env: { API_URL: openai.url, OPENAI_API_KEY: SERVER_KEY } });
    const before = await scrape(program.grpcUrl);

    client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(ChatbotService.method.newSession, {
      config: JSON.stringify({ version: 3, api_key: SESSION_KEY }),
    });
    expect((await client.unary(ChatbotService.method.chat, { sessionId, prompt: "hi" })).response).toBe(
      "Hello there. How are you today?",
    );
    // The key's 15 s cooldown refuses the next chat at once.
    await expect(client.unary(ChatbotService.method.chat, { sessionId, prompt: "again" })).rejects.toMatchObject({
      code: 8,
    });
    const ask = await fetch(`${program.httpUrl}/ask`, { method: "POST", body: JSON.stringify({ prompt: "hello" }) });
    expect(ask.status).toBe(200);

    const onGrpc = await scrape(program.grpcUrl);
    const onHttp = await scrape(program.httpUrl);
    for (const text of [onGrpc, onHttp]) {
      // Status 1 is a format error; 3 lists lint problems. The only ones allowed are in prom-client's own Node
      // defaults (gauges named *_total, which the library keeps for compatibility): none in the chatbot_ metrics.
      const check = promtool(["check", "metrics"], text);
      expect([0, 3]).toContain(check.status);
      const problems = check.output.split("\n").filter((line) => line.trim() !== "");
      expect(problems.filter((line) => !PROM_CLIENT_DEFAULTS_LINT.test(line))).toEqual([]);
    }

    const moved = (name: string, labels: Record<string, string> = {}): number =>
      sampleValue(onGrpc, name, labels) - sampleValue(before, name, labels);
    expect(moved("chatbot_calls_total", { method: CHAT, protocol: "grpc", code: "ok" })).toBe(1);
    expect(moved("chatbot_calls_total", { method: CHAT, protocol: "grpc", code: "resource_exhausted" })).toBe(1);
    expect(moved("chatbot_calls_total", { method: "/ask", protocol: "http", code: "200" })).toBe(1);
    expect(moved("chatbot_call_duration_seconds_count", { method: CHAT, protocol: "grpc" })).toBe(2);
    expect(moved("chatbot_upstream_requests_total", { backend: "openai", outcome: "ok" })).toBe(2);
    expect(moved("chatbot_upstream_request_duration_seconds_count", { backend: "openai" })).toBe(2);
    expect(moved("chatbot_cooldown_refusals_total", { kind: "api-key" })).toBe(1);
    // The fake reports no usage in its stream: the tokens are counted here.
    expect(moved("chatbot_tokens_total", { kind: "api-key", direction: "sent", source: "counted" })).toBeGreaterThan(0);
    expect(
      moved("chatbot_tokens_total", { kind: "api-key", direction: "received", source: "counted" }),
    ).toBeGreaterThan(0);
    expect(moved("chatbot_store_operation_duration_seconds_count", { operation: "appendTurn" })).toBe(2);
    expect(sampleValue(onGrpc, "chatbot_store_errors_total")).toBe(0);
    expect(sampleValue(onGrpc, "chatbot_sessions")).toBe(2); // the gRPC session and /ask's default session
    expect(hasMetric(onGrpc, "process_cpu_user_seconds_total")).toBe(true);
    expect(hasMetric(onGrpc, "nodejs_eventloop_lag_seconds")).toBe(true);
    // One registry behind both ports.
    expect(sampleValue(onHttp, "chatbot_upstream_requests_total")).toBe(
      sampleValue(onGrpc, "chatbot_upstream_requests_total"),
    );

    // Never a credential, a prompt or a session id in a label.
    for (const text of [onGrpc, onHttp]) {
      for (const secret of [SERVER_KEY, SESSION_KEY, sessionId, "hello", "again"]) expect(text).not.toContain(secret);
    }
  });

  it("CHATBOT_METRICS=false: 404 on both ports, the RPCs unaffected", async () => {
    openai = await startFakeOpenAI();
    program = await startBuiltProgram({ env: { API_URL: openai.url, CHATBOT_METRICS: "false" } });
    expect((await fetch(`${program.grpcUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${program.httpUrl}/metrics`)).status).toBe(404);
    client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(ChatbotService.method.newSession, {
      config: JSON.stringify({ version: 3, api_key: SESSION_KEY }),
    });
    expect(sessionId).not.toBe("");
  });
});

describe("GET /metrics with access tokens (the built program)", () => {
  it("needs the token on both ports, unless CHATBOT_METRICS_PUBLIC=true", async () => {
    const token = "test-metrics-scraper-token-0001";
    openai = await startFakeOpenAI();
    program = await startBuiltProgram({ env: { API_URL: openai.url, CHATBOT_AUTH_TOKENS: token } });
    for (const base of [program.grpcUrl, program.httpUrl]) {
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).not.toContain(token);
    }
    await program.stop();
    program = await startBuiltProgram({
      env: { API_URL: openai.url, CHATBOT_AUTH_TOKENS: token, CHATBOT_METRICS_PUBLIC: "true" },
    });
    for (const base of [program.grpcUrl, program.httpUrl]) expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});

describe("README: the example scrape configuration", () => {
  it("passes promtool check config", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const metrics = /### Metrics\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
    const yaml = /```yaml\n([\s\S]*?)```/.exec(metrics)?.[1];
    expect(yaml).toContain("scrape_configs:");
    const dir = mkdtempSync(join(tmpdir(), "chatbot-scrape-"));
    try {
      const file = join(dir, "prometheus.yml");
      writeFileSync(file, yaml!);
      writeFileSync(join(dir, "chatbot-token"), "test-metrics-scraper-token-0001\n"); // promtool checks the file exists
      const check = promtool(["check", "config", file]);
      expect(check.output).toMatch(/SUCCESS/);
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
