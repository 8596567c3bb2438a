import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type DrainBeforeCloseOptions, drainBeforeClose } from "./drain-before-close.js";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * A server that answers 413 at once, reading none of the body (`readFirst`:
 * it reads one chunk first, then pauses the request and answers, as a library
 * that stops reading at its limit does).
 */
async function refusingServer(
  options: DrainBeforeCloseOptions | false = {},
  { readFirst = false }: { readFirst?: boolean } = {},
): Promise<number> {
  const server = http.createServer((req, res) => {
    const refuse = (): void => {
      res.writeHead(413, { "content-type": "text/plain", "content-length": "8" });
      res.end("too big\n");
    };
    if (!readFirst) return refuse();
    req.once("data", () => {
      req.pause();
      refuse();
    });
  });
  if (options !== false) drainBeforeClose(server, options);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

interface RawExchange {
  /** What the server sent. */
  readonly answer: string;
  /** Whether the whole upload went out without an error. */
  readonly uploaded: boolean;
  /** The socket's error, if any (EPIPE, ECONNRESET…). */
  readonly error?: string;
}

/**
 * A client that closes after one request (Connection: close, unless told
 * `keep-alive`): sends the head
 * and `first` bytes of a `total`-byte body, waits until it has the whole
 * answer, then sends `rest` bytes (default: the rest of the body), as a
 * client in the middle of an upload would.
 */
function uploadAfterAnswer(
  port: number,
  {
    total,
    first,
    rest = total - first,
    connection = "close",
  }: { total: number; first: number; rest?: number; connection?: "close" | "keep-alive" },
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    let uploaded = false;
    let error: string | undefined;
    let sentRest = false;
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => resolve({ answer, uploaded, ...(error === undefined ? {} : { error }) }));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      if (sentRest || !answer.endsWith("too big\n")) return;
      sentRest = true;
      // The whole answer is in: a moment for the server to finish with it, then the rest of the upload.
      setTimeout(() => {
        if (socket.destroyed) return;
        socket.write(Buffer.alloc(rest, 0x61), (e) => {
          uploaded = e == null;
        });
      }, 50);
    });
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: ${connection}\r\nContent-Length: ${total}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(first, 0x61));
  });
}

describe("drainBeforeClose", () => {
  it("a Connection: close client that is still uploading gets the answer and finishes its upload, no reset", async () => {
    const port = await refusingServer();
    const exchange = await uploadAfterAnswer(port, { total: 6_000_000, first: 1_000_000 });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.answer).toContain("Connection: close");
    expect(exchange.error).toBeUndefined();
    expect(exchange.uploaded).toBe(true);
  });

  it("without it, Node closes under the upload: the same client's writes fail (what it mends)", async () => {
    const port = await refusingServer(false);
    const exchange = await uploadAfterAnswer(port, { total: 6_000_000, first: 1_000_000 });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.uploaded).toBe(false);
  });

  it("also when the handler read part of the body and paused the request (Node would leave the socket paused)", async () => {
    const port = await refusingServer({ maxMs: 3_000 }, { readFirst: true });
    const exchange = await uploadAfterAnswer(port, { total: 6_000_000, first: 1_000_000 });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.error).toBeUndefined();
    expect(exchange.uploaded).toBe(true);
  });

  it("Node's clients (http.request, no keep-alive) get the 413, not EPIPE, every time", async () => {
    const port = await refusingServer();
    const agent = new http.Agent({ keepAlive: false });
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      outcomes.push(
        await new Promise<string>((resolve) => {
          const req = http.request({ port, host: "127.0.0.1", method: "POST", agent }, (res) => {
            res.resume();
            res.on("end", () => resolve(String(res.statusCode)));
          });
          req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
          req.end(Buffer.alloc(3_000_000));
        }),
      );
    }
    expect(outcomes).toEqual(Array(20).fill("413"));
  });

  it("a body read whole closes at once, as before (the server does not wait for the client to close)", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    drainBeforeClose(server, { maxMs: 60_000 });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      // allowHalfOpen: the client never ends its side; only the server's close ends this.
      const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.on("end", () => {
        socket.destroy();
        resolve(text);
      });
      socket.on("error", reject);
      socket.write("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/);
  });

  it("gives up after maxMs: a client that stops sending mid-body is cut off", async () => {
    const port = await refusingServer({ maxMs: 200 });
    const started = Date.now();
    // 100 bytes of a 6 MB body, then nothing: the connection still closes, the rest never sent.
    const exchange = await uploadAfterAnswer(port, { total: 6_000_000, first: 100, rest: 100 });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("gives up after maxBytes: a client that sends more than that after the answer is cut off", async () => {
    const port = await refusingServer({ maxBytes: 1_000_000 });
    const exchange = await uploadAfterAnswer(port, { total: 50_000_000, first: 1_000_000, rest: 49_000_000 });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.uploaded).toBe(false);
  });

  it("keep-alive connections are Node's as before: the unread body is skipped and the next request answered", async () => {
    const port = await refusingServer();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const status = (): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = http.request({ port, host: "127.0.0.1", method: "POST", agent }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
          req.end(Buffer.alloc(2_000_000));
        });
      expect([await status(), await status()]).toEqual([413, 413]);
    } finally {
      agent.destroy();
    }
  });

  it("a kept-alive connection reads an unread body within the same bounds: a client that sends on past them is cut off", async () => {
    const port = await refusingServer({ maxBytes: 1_000_000 });
    const exchange = await uploadAfterAnswer(port, {
      total: 50_000_000,
      first: 1_000_000,
      rest: 49_000_000,
      connection: "keep-alive",
    });
    expect(exchange.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.answer).not.toContain("Connection: close");
    expect(exchange.uploaded).toBe(false);
  });

  it("refuses bounds that are not whole numbers > 0", () => {
    const server = http.createServer();
    expect(() => drainBeforeClose(server, { maxMs: 0 })).toThrow(RangeError);
    expect(() => drainBeforeClose(server, { maxBytes: 1.5 })).toThrow(/maxBytes must be a whole number > 0/);
  });
});
