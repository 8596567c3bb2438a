import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { SessionPool } from "@chatgptchatbot/core";
import { deferred, ScriptedBackend, untilAborted } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpApp } from "./app.js";
import { type RunningHttpServer, startHttpServer } from "./server.js";

const KEY = "sk-test-server-default-key-0001";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<{ server: RunningHttpServer; backend: ScriptedBackend }> {
  const backend = new ScriptedBackend();
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0 },
    configDefaults: { apiKeys: [KEY] },
  });
  cleanups.push(() => pool.close());
  const server = await startHttpServer({ pool, host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close({ timeoutMs: 0 }));
  return { server, backend };
}

/** POST over node:http with a keep-alive agent, so the Connection header is visible. */
function rawPost(
  url: string,
  path: string,
  body: string,
  agent: Agent,
): Promise<{ res: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method: "POST", agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ res, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("startHttpServer", () => {
  it("serves the app over a real socket on the port the OS picked", async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/ask`, { method: "POST", body: '{"prompt": "hi"}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("echo: hi");
  });

  it("accepts an app built beforehand", async () => {
    const backend = new ScriptedBackend();
    const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, configDefaults: { apiKeys: [KEY] } });
    cleanups.push(() => pool.close());
    const server = await startHttpServer({ app: createHttpApp({ pool }), host: "127.0.0.1", port: 0 });
    cleanups.push(() => server.close());
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe("ok");
  });

  it("rejects when the port is taken", async () => {
    const { server } = await start();
    await expect(
      startHttpServer({ pool: {} as SessionPool, host: "127.0.0.1", port: server.port }),
    ).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
  });

  it("aborts the upstream call when the client goes away", async () => {
    const { server, backend } = await start();
    const started = deferred();
    const aborted = deferred();
    backend.script = (request) => {
      started.resolve();
      request.signal.addEventListener("abort", () => aborted.resolve(), { once: true });
      return untilAborted(request);
    };
    const client = new AbortController();
    const pending = fetch(`${server.url}/ask`, { method: "POST", body: '{"prompt": "hi"}', signal: client.signal });
    await started.promise;
    client.abort();
    await expect(pending).rejects.toThrow();
    await aborted.promise;
    expect(backend.requests[0]?.signal.aborted).toBe(true);
  });
});

describe("streamed asks over a real socket", () => {
  it("writes each sentence event as it is made, and a client that hangs up mid-stream cancels the upstream call", async () => {
    const { server, backend } = await start();
    const aborted = deferred();
    backend.script = async function* (request) {
      request.signal.addEventListener("abort", () => aborted.resolve(), { once: true });
      yield { type: "text", text: "One sentence. And" };
      await untilAborted(request);
    };
    const client = new AbortController();
    const res = await fetch(`${server.url}/ask`, {
      method: "POST",
      body: '{"prompt": "hi"}',
      headers: { accept: "text/event-stream" },
      signal: client.signal,
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: sentence\ndata: One sentence.\n\n");
    client.abort();
    await aborted.promise;
    // The session's turn was released: the next ask is answered.
    backend.script = (request) => `echo: ${request.prompt}`;
    expect(await (await fetch(`${server.url}/ask`, { method: "POST", body: '{"prompt": "next"}' })).text()).toBe(
      "echo: next",
    );
  });
});

describe("close", () => {
  it("lets an in-flight request finish, says Connection: close, then stops accepting", async () => {
    const { server, backend } = await start();
    const started = deferred();
    const release = deferred<string>();
    backend.script = () => {
      started.resolve();
      return release.promise;
    };
    const agent = new Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());
    const pending = rawPost(server.url, "/ask", '{"prompt": "hi"}', agent);
    await started.promise;

    let closed = false;
    const closing = server.close({ timeoutMs: 60_000 }).then(() => (closed = true));
    // Closing has begun; the in-flight request still gets its whole answer.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(closed).toBe(false);
    release.resolve("late but whole");
    const { res, text } = await pending;
    expect(res.statusCode).toBe(200);
    expect(text).toBe("late but whole");
    expect(res.headers.connection).toBe("close");
    await closing; // the keep-alive client let go, so close does not wait for the timeout
    expect(closed).toBe(true);
  });

  it("closes idle keep-alive connections at once", async () => {
    const { server } = await start();
    const agent = new Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());
    const { res } = await rawPost(server.url, "/ask", '{"prompt": "hi"}', agent);
    expect(res.headers.connection).toBe("keep-alive");
    await server.close({ timeoutMs: 60_000 }); // would wait for the timeout if the idle socket stayed
  });

  it("cuts requests still running after the timeout, aborting their upstream calls", async () => {
    const { server, backend } = await start();
    const started = deferred();
    const aborted = deferred();
    backend.script = (request) => {
      started.resolve();
      request.signal.addEventListener("abort", () => aborted.resolve(), { once: true });
      return untilAborted(request);
    };
    const pending = fetch(`${server.url}/ask`, { method: "POST", body: '{"prompt": "hi"}' });
    pending.catch(() => undefined);
    await started.promise;
    await server.close({ timeoutMs: 1 });
    await expect(pending).rejects.toThrow();
    await aborted.promise; // a hang here means the upstream call was never cancelled
  });

  it("is idempotent and takes a bare number of ms", async () => {
    const { server } = await start();
    const first = server.close(100);
    expect(server.close()).toBe(first);
    await first;
  });
});
