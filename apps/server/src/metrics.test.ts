import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";

/** The value of one exposition line `name{labels} value`, exactly as written; undefined when absent. */
function line(text: string, series: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${series} `));
  return found === undefined ? undefined : Number(found.slice(series.length + 1));
}

describe("createMetrics", () => {
  it("feeds each observer into its own series", async () => {
    const metrics = createMetrics();
    metrics.onCall({ method: "/ask", protocol: "http", code: "200", seconds: 0.02 });
    metrics.upstream.request?.({ backend: "openai", outcome: "timeout", seconds: 60 });
    metrics.upstream.retry?.({ backend: "chatgpt-web", outcome: "http_5xx" });
    metrics.pool.cooldownRefused?.({ kind: "api-key" });
    metrics.pool.firstSegment?.({ kind: "api-key", seconds: 0.7 });
    metrics.pool.tokens?.({ kind: "api-key", direction: "sent", tokens: 120, reported: true });
    metrics.pool.tokens?.({ kind: "api-key", direction: "received", tokens: 30, reported: false });
    metrics.store({ operation: "get", seconds: 0.0001, ok: false });
    metrics.countSessions(async () => 7);
    metrics.droppedLogLine();
    metrics.droppedLogLine();
    const { contentType, body } = await metrics.source();

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(line(body, 'chatbot_calls_total{method="/ask",protocol="http",code="200"}')).toBe(1);
    expect(line(body, 'chatbot_call_duration_seconds_bucket{le="0.025",method="/ask",protocol="http"}')).toBe(1);
    expect(line(body, 'chatbot_upstream_requests_total{backend="openai",outcome="timeout"}')).toBe(1);
    expect(
      line(body, 'chatbot_upstream_request_duration_seconds_bucket{le="30",backend="openai",outcome="timeout"}'),
    ).toBe(0);
    expect(line(body, 'chatbot_upstream_retries_total{backend="chatgpt-web",outcome="http_5xx"}')).toBe(1);
    expect(line(body, 'chatbot_cooldown_refusals_total{kind="api-key"}')).toBe(1);
    expect(line(body, 'chatbot_first_segment_seconds_bucket{le="1",kind="api-key"}')).toBe(1);
    expect(line(body, 'chatbot_tokens_total{kind="api-key",direction="sent",source="upstream"}')).toBe(120);
    expect(line(body, 'chatbot_tokens_total{kind="api-key",direction="received",source="counted"}')).toBe(30);
    expect(line(body, 'chatbot_store_errors_total{operation="get"}')).toBe(1);
    expect(line(body, "chatbot_sessions")).toBe(7);
    expect(line(body, "chatbot_log_lines_dropped_total")).toBe(2);
    expect(body).toContain("# TYPE process_cpu_user_seconds_total counter");
  });

  it("keeps each program's registry apart, and a failing session count does not fail the scrape", async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.pool.cooldownRefused?.({ kind: "access-token" });
    second.countSessions(async () => {
      throw new Error("store down");
    });
    expect(line((await first.source()).body, 'chatbot_cooldown_refusals_total{kind="access-token"}')).toBe(1);
    const other = (await second.source()).body;
    expect(line(other, 'chatbot_cooldown_refusals_total{kind="access-token"}')).toBeUndefined();
    expect(line(other, "chatbot_sessions")).toBe(0);
  });
});
