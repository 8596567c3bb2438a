import { ACCESS_TOKEN, closeAfterEach, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { errorDetail } from "../chatgpt-web/protocol.js";
import { openAIErrorReason } from "../openai/protocol.js";
import { errorAnswer, MAX_ERROR_BODY_BYTES } from "./error-answer.js";

const cleanup = closeAfterEach();

/** The error answer of a real HTTP reply with this status, headers and body. */
async function answer(
  status: number,
  headers: Record<string, string>,
  body: string,
  reasonOf: (body: string) => string = errorDetail,
) {
  const server = await startScriptedServer((_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });
  cleanup.push(() => server.close());
  const response = await request(`${server.origin}/conversation`, { method: "POST" });
  return errorAnswer(response, { credential: ACCESS_TOKEN, reasonOf });
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

  it.each([
    [{ error: { message: "bad model", type: "invalid_request_error", code: "model_not_found" } }, "bad model"],
    [{ error: { message: { nested: true } } }, '{"nested":true}'],
    [{ error: { type: "server_error" } }, '{"type":"server_error"}'],
    [{ error: "overloaded" }, "overloaded"],
    [{ message: "not found" }, "not found"],
    [{ detail: "Not Found" }, "Not Found"],
    [{ unrelated: 1 }, '{"unrelated":1}'],
  ])("reads an OpenAI-compatible error body %j as %j", async (body, reason) => {
    const error = await answer(400, { "content-type": "application/json" }, JSON.stringify(body), openAIErrorReason);
    expect(error.message).toBe(`the upstream answered 400: ${reason}`);
  });

  it.each([
    ["", "no reason given"],
    ["   ", "no reason given"],
    ["Bad Gateway", "Bad Gateway"],
  ])("reads a text error body %j as %j", async (body, reason) => {
    const error = await answer(502, { "content-type": "text/plain" }, body, openAIErrorReason);
    expect(error.message).toBe(`the upstream answered 502: ${reason}`);
  });
});
