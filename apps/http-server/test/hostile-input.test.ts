/**
 * Issue 10's reproduced cases over the HTTP API, on a real socket: what a
 * stranger sends to /ask or /renew gets a documented 4xx naming the problem,
 * never a 500, never an echo of a credential or of a huge value.
 */
import { SessionPool } from "@chatgptchatbot/core";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../src/server.js";

const KEY = "sk-test-server-default-key-0001";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  backend = new ScriptedBackend(),
): Promise<{ server: RunningHttpServer; backend: ScriptedBackend }> {
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
    configDefaults: { apiKeys: [KEY] },
    limits: { promptChars: 4_000 },
  });
  cleanups.push(() => pool.close());
  const server = await startHttpServer({ pool, host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close({ timeoutMs: 0 }));
  return { server, backend };
}

async function post(server: RunningHttpServer, path: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${path}`, { method: "POST", body });
  return { status: res.status, text: await res.text() };
}

describe("POST /ask with hostile prompts", () => {
  it("`say <|endoftext|> please` is answered 200 (special tokens are text)", async () => {
    const { server } = await start();
    expect(await post(server, "/ask", JSON.stringify({ prompt: "say <|endoftext|> please" }))).toEqual({
      status: 200,
      text: "echo: say <|endoftext|> please",
    });
  });

  it("a reply holding <|endoftext|> is answered 200 and the next ask still works", async () => {
    const { server } = await start(new ScriptedBackend({ script: () => "bye <|endoftext|>" }));
    expect(await post(server, "/ask", '{"prompt": "hi"}')).toEqual({ status: 200, text: "bye <|endoftext|>" });
    expect((await post(server, "/ask", '{"prompt": "again"}')).status).toBe(200);
  });

  it("a prompt over CHATBOT_MAX_PROMPT_CHARS is 400 before anything is asked (100 kB of x)", async () => {
    const { server, backend } = await start();
    const started = performance.now();
    expect(await post(server, "/ask", JSON.stringify({ prompt: "x".repeat(100_000) }))).toEqual({
      status: 400,
      text: "prompt is too long: the limit is 4000 characters",
    });
    expect(backend.requests).toHaveLength(0);
    // Answered without counting tokens: the case blocked the server 4-6 s.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("the largest accepted prompt without spaces is answered", async () => {
    const { server } = await start(new ScriptedBackend({ script: () => "ok" }));
    expect(await post(server, "/ask", JSON.stringify({ prompt: "今".repeat(4_000) }))).toEqual({
      status: 200,
      text: "ok",
    });
  });

  it("a body nested 20,000 deep is 400, not 500", async () => {
    const { server } = await start();
    const deep = `{"prompt": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    expect(await post(server, "/ask", deep)).toEqual({
      status: 400,
      text: "the request body nests deeper than 32 levels",
    });
  });
});

describe("POST /renew with hostile credentials and versions", () => {
  it.each([
    ["a NUL", "sk-test-nul\u0000x", "api_key must be visible ASCII only"],
    ["Cyrillic", "sk-test-ключ", "api_key must be visible ASCII only"],
    ["a single space", " ", "api_key must not be empty or only whitespace"],
  ])(
    "an API key with %s is 400 naming the field, never echoing the key; the old credential stays",
    async (_name, key, reason) => {
      const { server, backend } = await start();
      const { status, text } = await post(server, "/renew", JSON.stringify({ api_key: key, version: 3 }));
      expect(status).toBe(400);
      expect(text).toContain(reason);
      if (key.trim() !== "") expect(text).not.toContain(key);
      expect(text).not.toContain("sk-test");
      expect(await post(server, "/ask", '{"prompt": "still there?"}')).toEqual({
        status: 200,
        text: "echo: still there?",
      });
      expect(backend.requests.map((r) => r.credential)).toEqual([KEY]);
    },
  );

  it("an access token with a NUL is 400 too", async () => {
    const { server } = await start();
    const { status, text } = await post(server, "/renew", JSON.stringify({ access_token: "eyJ-test\u0000" }));
    expect(status).toBe(400);
    expect(text).toContain("access_token must be visible ASCII only");
  });

  it("a 20,000-deep version is 400, not 500", async () => {
    const { server } = await start();
    const deep = `{"access_token": "eyJ-test", "version": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    expect(await post(server, "/renew", deep)).toEqual({
      status: 400,
      text: "the request body nests deeper than 32 levels",
    });
  });

  it("a 200,000-character version is quoted short in the 400", async () => {
    const { server } = await start();
    const { status, text } = await post(
      server,
      "/renew",
      JSON.stringify({ access_token: "eyJ-test", version: "9".repeat(200_000) }),
    );
    expect(status).toBe(400);
    expect(text).toBe(
      `unsupported version "${"9".repeat(40)}…" (200000 characters): use 1 (access token) or 3 (API key)`,
    );
  });
});
