import type { IncomingHttpHeaders } from "node:http";
import { ErrorCode } from "@chatgptchatbot/core";
import { closeAfterEach, rejection, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { postUpstream } from "./post-upstream.js";

const cleanup = closeAfterEach();
const CREDENTIAL = "sk-test-post-upstream-0001";

/** A server that answers `status` with `contentType` and `body`, and records what it was sent. */
async function recordingServer(status: number, contentType: string, answer: string) {
  const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
  const server = await startScriptedServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      Object.assign(seen, {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(status, { "content-type": contentType });
      res.end(answer);
    });
  });
  cleanup.push(() => server.close());
  const dispatcher = new Agent();
  cleanup.push(() => dispatcher.destroy());
  return { origin: server.origin, dispatcher, seen };
}

const send = (
  { origin, dispatcher }: { origin: string; dispatcher: Agent },
  options: Partial<Parameters<typeof postUpstream>[0]> = {},
) =>
  postUpstream({
    dispatcher,
    url: `${origin}/v1/chat/completions`,
    body: '{"model":"m"}',
    credential: CREDENTIAL,
    accept: "text/event-stream",
    signal: new AbortController().signal,
    reasonOf: (body) => `reason: ${body}`,
    ...options,
  });

describe("postUpstream", () => {
  it("POSTs the JSON body with the credential as a bearer token, the accept header and the user agent", async () => {
    const upstream = await recordingServer(200, "text/event-stream", "data: [DONE]\n\n");
    const response = await send(upstream, { userAgent: "chatgptchatbot" });
    expect(await response.body.text()).toBe("data: [DONE]\n\n");
    expect(upstream.seen).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: '{"model":"m"}' });
    expect(upstream.seen.headers).toMatchObject({
      authorization: `Bearer ${CREDENTIAL}`,
      "content-type": "application/json",
      accept: "text/event-stream",
      "user-agent": "chatgptchatbot",
    });
  });

  it("sends no user agent unless given", async () => {
    const upstream = await recordingServer(200, "text/event-stream", "");
    await (await send(upstream)).body.dump();
    expect(upstream.seen.headers).not.toHaveProperty("user-agent");
  });

  it("an error status → Upstream with the reason its body gives, the credential masked", async () => {
    const upstream = await recordingServer(503, "application/json", `overloaded for ${CREDENTIAL}`);
    const error = await rejection(send(upstream));
    expect(error).toMatchObject({ code: ErrorCode.Upstream, upstreamStatus: 503 });
    expect(error.message).toBe("the upstream answered 503: reason: overloaded for sk-te…0001");
  });

  it("a 2xx that isReply refuses → Upstream with its reason too", async () => {
    const upstream = await recordingServer(200, "application/json", "busy");
    const isReply = (headers: IncomingHttpHeaders) => headers["content-type"] === "text/event-stream";
    const error = await rejection(send(upstream, { isReply }));
    expect(error).toMatchObject({
      code: ErrorCode.Upstream,
      upstreamStatus: 200,
      message: "the upstream answered 200: reason: busy",
    });
  });

  it("leaves the deadline to the signal: an aborted signal rejects", async () => {
    const upstream = await recordingServer(200, "text/event-stream", "");
    await expect(send(upstream, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
