import { ACCESS_TOKEN, closeAfterEach, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { errorAnswer, MAX_ERROR_BODY_BYTES } from "./chatgpt-web-failure.js";

const cleanup = closeAfterEach();

/** The error answer of a real HTTP reply with this status, headers and body. */
async function answer(status: number, headers: Record<string, string>, body: string) {
  const server = await startScriptedServer((_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });
  cleanup.push(() => server.close());
  return errorAnswer(await request(`${server.origin}/conversation`, { method: "POST" }), ACCESS_TOKEN);
}

describe("errorAnswer", () => {
  it("carries the status, the Retry-After and the body's detail, the token masked", async () => {
    const body = JSON.stringify({ detail: `slow down ${ACCESS_TOKEN}` });
    const error = await answer(429, { "content-type": "application/json", "retry-after": "2" }, body);
    expect(error.upstreamStatus).toBe(429);
    expect(error.retryAfterMs).toBe(2000);
    expect(error.message).toMatch(/^the upstream answered 429: slow down/);
    expect(error.message).not.toContain(ACCESS_TOKEN);
  });

  it("gives a bounded one-line reason for a huge error body", async () => {
    const error = await answer(500, { "content-type": "text/plain" }, "x".repeat(MAX_ERROR_BODY_BYTES * 4));
    expect(error.upstreamStatus).toBe(500);
    expect(error.message.length).toBeLessThan(400);
  });
});
