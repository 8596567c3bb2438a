import { closeAfterEach, nextMacrotask, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { createUndiciFetch } from "./undici-fetch.js";

const cleanup = closeAfterEach();

async function setup(handler: Parameters<typeof startScriptedServer>[0], dispatcher: Agent = new Agent()) {
  const server = await startScriptedServer(handler);
  cleanup.push(
    () => server.close(),
    () => dispatcher.destroy(),
  );
  return { server, fetch: createUndiciFetch({ dispatcher }) };
}

describe("createUndiciFetch", () => {
  it("sends method, headers and body; returns status, headers and body", async () => {
    let seen: { method?: string; headers?: Record<string, unknown>; body?: string } = {};
    const { server, fetch } = await setup((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        seen = { method: req.method, headers: req.headers, body };
        res.writeHead(201, "Made", [
          ["content-type", "application/json"],
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ]);
        res.end('{"ok":true}');
      });
    });
    const response = await fetch(`${server.origin}/v1/things?x=1`, {
      method: "post",
      headers: new Headers({
        "content-type": "application/json",
        authorization: "Bearer sk-test-x",
        "accept-encoding": "gzip",
      }),
      body: '{"q":1}',
    });
    expect(seen.method).toBe("POST");
    expect(seen.body).toBe('{"q":1}');
    expect(seen.headers).toMatchObject({ "content-type": "application/json", authorization: "Bearer sk-test-x" });
    expect(seen.headers).not.toHaveProperty("accept-encoding");
    expect(response.status).toBe(201);
    expect(response.statusText).toBe("Made");
    expect(response.ok).toBe(true);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("accepts byte bodies and URL objects, and gives a null body for 204", async () => {
    let received = "";
    const { server, fetch } = await setup((req, res) => {
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (received += chunk));
      req.on("end", () => {
        res.writeHead(204);
        res.end();
      });
    });
    const response = await fetch(new URL(server.origin), { method: "PUT", body: new TextEncoder().encode("bytes") });
    expect(received).toBe("bytes");
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it("refuses a Request object", async () => {
    const { server, fetch } = await setup((_req, res) => res.end());
    await expect(fetch(new Request(server.origin))).rejects.toThrow(TypeError);
  });

  it("sets no timers of its own and overrides the dispatcher's: the caller's signal is the only limit", async () => {
    // A dispatcher whose headers and body timeouts would each cut this reply (undici checks
    // them about once a second, hence the 1.1 s waits).
    const strict = new Agent({ headersTimeout: 50, bodyTimeout: 50 });
    const { server, fetch } = await setup((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("slow ");
        setTimeout(() => res.end("reply"), 1100);
      }, 1100);
    }, strict);
    const response = await fetch(server.origin);
    expect(await response.text()).toBe("slow reply");
  });

  it("an abort while waiting for headers rejects with AbortError and closes the connection", async () => {
    let received = false;
    let closed = false;
    const { server, fetch } = await setup((req, res) => {
      req.resume();
      received = true;
      res.on("close", () => (closed = true));
    });
    const controller = new AbortController();
    const pending = fetch(server.origin, { signal: controller.signal });
    while (!received) await nextMacrotask();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    while (!closed) await nextMacrotask();
  });

  it("an abort mid-body errors the body and closes the connection", async () => {
    let closedEarly: boolean | undefined;
    const { server, fetch } = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      res.on("close", () => (closedEarly = !res.writableFinished));
    });
    const controller = new AbortController();
    const response = await fetch(server.origin, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
    while (closedEarly === undefined) await nextMacrotask();
    expect(closedEarly).toBe(true);
  });
});
