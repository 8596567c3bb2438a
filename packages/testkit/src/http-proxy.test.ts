import { request } from "node:http";
import type { Socket } from "node:net";
import { type AddressInfo, createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "./fake-openai.js";
import { type HttpProxy, isLoopbackHost, startHttpProxy } from "./http-proxy.js";
import { parseSSE } from "./sse.js";

let proxy: HttpProxy;
let upstream: FakeOpenAI;
beforeEach(async () => {
  [proxy, upstream] = await Promise.all([startHttpProxy(), startFakeOpenAI()]);
});
afterEach(async () => {
  await Promise.all([proxy.close(), upstream.close()]);
});

/** Sends `method target` to the proxy (absolute-form) with node:http and collects the reply. */
function viaProxy({
  method,
  target,
  headers = {},
  body,
}: {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: Number(port), method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens a CONNECT tunnel to `target`; resolves with the status and, on 200, the tunnel socket. */
function connectVia(target: string): Promise<{ status: number; socket: Socket; body: string }> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: Number(port), method: "CONNECT", path: target });
    req.on("connect", (res, socket, head) => {
      resolve({ status: res.statusCode ?? 0, socket, body: head.toString() });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Writes a raw HTTP/1.1 request into the socket and returns everything read until it closes. */
function rawExchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("startHttpProxy", () => {
  it("listens on 127.0.0.1", () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("forwards absolute-form requests with their headers and body, streaming the reply back", async () => {
    const target = `${upstream.url}/chat/completions`;
    const res = await viaProxy({
      method: "POST",
      target,
      headers: {
        authorization: "Bearer via-proxy",
        "content-type": "application/json",
        "proxy-authorization": "Basic secret",
      },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "through the proxy" }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(parseSSE(res.body).at(-1)).toBe("[DONE]");
    expect(res.body).toContain(" proxy");
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.path).toBe("/v1/chat/completions");
    expect(upstream.requests[0]?.headers.authorization).toBe("Bearer via-proxy");
    expect(upstream.requests[0]?.headers).not.toHaveProperty("proxy-authorization");
    expect(upstream.requests[0]?.body.messages[0].content).toBe("through the proxy");
    expect(proxy.requests).toEqual([{ method: "POST", target }]);
  });

  it("tunnels CONNECT to a loopback port", async () => {
    const { host } = new URL(upstream.origin);
    const tunnel = await connectVia(host);
    expect(tunnel.status).toBe(200);
    const reply = await rawExchange(
      tunnel.socket,
      `GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply).toContain('"object":"list"');
    expect(proxy.requests).toEqual([{ method: "CONNECT", target: host }]);
  });

  it("answers 502 when a loopback target is unreachable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await viaProxy({ method: "GET", target: `http://127.0.0.1:${port}/` })).status).toBe(502);
    const tunnel = await connectVia(`127.0.0.1:${port}`);
    expect(tunnel.status).toBe(502);
    tunnel.socket.destroy();
  });

  // A refused target answers 403; had the proxy tried to connect it would answer 502 (see
  // above) or hang, since nothing off loopback is reachable here.
  it.each([
    "http://10.0.0.1/",
    "http://example.com/v1/models",
    "http://localhost.evil.test/",
    "http://127.0.0.1.nip.io/",
  ])("refuses absolute-form %s with 403 without connecting", async (target) => {
    const started = Date.now();
    const res = await viaProxy({ method: "GET", target });
    expect(res.status).toBe(403);
    expect(res.body).toContain("non-loopback");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(proxy.requests).toEqual([{ method: "GET", target }]);
  });

  it("refuses CONNECT to a non-loopback host with 403", async () => {
    const tunnel = await connectVia("10.0.0.1:443");
    expect(tunnel.status).toBe(403);
    tunnel.socket.destroy();
    expect(proxy.requests).toEqual([{ method: "CONNECT", target: "10.0.0.1:443" }]);
  });

  it("answers 400 to an origin-form request (not a proxy request)", async () => {
    const res = await fetch(`${proxy.url}/v1/models`);
    expect(res.status).toBe(400);
  });

  it("close() also ends open tunnels", async () => {
    const tunnel = await connectVia(new URL(upstream.origin).host);
    const closed = new Promise<void>((resolve) => tunnel.socket.once("close", () => resolve()));
    await proxy.close();
    await closed;
  });
});

describe("isLoopbackHost", () => {
  it("accepts only 127.0.0.1, localhost and ::1", () => {
    expect(["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "::1"].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["10.0.0.1", "127.0.0.2", "0.0.0.0", "localhost.evil.test", "[::]", ""].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
