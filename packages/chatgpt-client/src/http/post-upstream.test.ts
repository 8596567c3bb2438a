import type { IncomingHttpHeaders } from "node:http";
import { closeAfterEach, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { postUpstream } from "./post-upstream.js";

const cleanup = closeAfterEach();

/** A server that answers `status` and records what it was sent. */
async function recordingServer(status: number) {
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
      res.writeHead(status, { "content-type": "text/plain" });
      res.end("answer");
    });
  });
  cleanup.push(() => server.close());
  return { server, seen };
}

describe("postUpstream", () => {
  it("POSTs the JSON body with the credential as a bearer token, the accept header and the user agent", async () => {
    const { server, seen } = await recordingServer(200);
    const dispatcher = new Agent();
    cleanup.push(() => dispatcher.destroy());
    const response = await postUpstream({
      dispatcher,
      url: `${server.origin}/v1/chat/completions`,
      body: '{"model":"m"}',
      credential: "sk-test-post-upstream-0001",
      accept: "text/event-stream",
      userAgent: "chatgptchatbot",
      signal: new AbortController().signal,
    });
    expect(await response.body.text()).toBe("answer");
    expect(seen).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: '{"model":"m"}' });
    expect(seen.headers).toMatchObject({
      authorization: "Bearer sk-test-post-upstream-0001",
      "content-type": "application/json",
      accept: "text/event-stream",
      "user-agent": "chatgptchatbot",
    });
  });

  it("resolves with an error status too (the backend reads its reason); no user agent unless given", async () => {
    const { server, seen } = await recordingServer(503);
    const dispatcher = new Agent();
    cleanup.push(() => dispatcher.destroy());
    const response = await postUpstream({
      dispatcher,
      url: server.origin,
      body: "{}",
      credential: "sk-test-post-upstream-0002",
      accept: "text/event-stream, application/json",
      signal: new AbortController().signal,
    });
    expect(response.statusCode).toBe(503);
    await response.body.dump();
    expect(seen.headers).not.toHaveProperty("user-agent");
  });

  it("leaves the deadline to the signal: an aborted signal rejects", async () => {
    const { server } = await recordingServer(200);
    const dispatcher = new Agent();
    cleanup.push(() => dispatcher.destroy());
    const request = postUpstream({
      dispatcher,
      url: server.origin,
      body: "{}",
      credential: "sk-test-post-upstream-0003",
      accept: "text/event-stream",
      signal: AbortSignal.abort(),
    });
    await expect(request).rejects.toThrow();
  });
});
