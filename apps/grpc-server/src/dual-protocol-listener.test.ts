import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createDualProtocolListener, type DualProtocolListener, type StreamHandler } from "./dual-protocol-listener.js";

const listeners: DualProtocolListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) {
    for (const socket of l.sockets) socket.destroy();
    await new Promise((resolve) => l.server.close(resolve));
  }
});

async function start(onStream?: StreamHandler): Promise<string> {
  const listener = createDualProtocolListener((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "text/plain");
      res.end(`HTTP/${req.httpVersion} ${req.method} ${req.url} ${body}`);
    });
  }, onStream);
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(listener.server.address() as AddressInfo).port}`;
}

function h2Request(url: string, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path });
    let data = "";
    stream.on("data", (chunk: Buffer) => (data += chunk.toString()));
    stream.on("end", () => {
      session.close();
      resolve(data);
    });
    stream.on("error", reject);
    stream.end(body);
  });
}

describe("createDualProtocolListener", () => {
  it("serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port", async () => {
    const url = await start();
    const h1 = await fetch(`${url}/one`, { method: "POST", body: "a" });
    expect(await h1.text()).toBe("HTTP/1.1 POST /one a");
    expect(await h2Request(url, "/two", "b")).toBe("HTTP/2.0 POST /two b");
  });

  it("lets a stream handler take HTTP/2 streams before the request handler, and passes on the rest", async () => {
    const taken: string[] = [];
    const url = await start((stream, headers) => {
      if (headers[":path"] !== "/raw") return false;
      taken.push(headers[":path"]);
      stream.respond({ ":status": 200 });
      stream.end("taken raw");
      return true;
    });
    expect(await h2Request(url, "/raw", "x")).toBe("taken raw");
    // Left by the stream handler: the request handler gets it as before, over HTTP/2 and HTTP/1.1.
    expect(await h2Request(url, "/other", "y")).toBe("HTTP/2.0 POST /other y");
    expect(await (await fetch(`${url}/raw`, { method: "POST", body: "z" })).text()).toBe("HTTP/1.1 POST /raw z");
    expect(taken).toEqual(["/raw"]);
  });

  it("classifies a connection whose preface arrives in pieces", async () => {
    const url = await start();
    const { port } = new URL(url);
    const reply = await new Promise<string>((resolve, reject) => {
      // An HTTP/1.1 request whose first byte arrives alone ("P" is also how the HTTP/2 preface starts).
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write("P");
        setImmediate(() =>
          socket.write("OST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc"),
        );
      });
      let data = "";
      socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(reply).toContain("HTTP/1.1 POST /split c");
  });
});
