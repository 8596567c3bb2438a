import { connect } from "node:net";
import { SessionPool } from "@chatgptchatbot/core";
import { recordingLogger, ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { isBrokenRequest } from "./broken-request.js";
import { startHttpServer } from "./server.js";

describe("isBrokenRequest", () => {
  const aborted = Object.assign(new Error("aborted"), { code: "ECONNRESET" });

  it("is the error that destroyed the Node request, or one caused by it", () => {
    const env = { incoming: { errored: aborted } };
    expect(isBrokenRequest(aborted, env)).toBe(true);
    expect(isBrokenRequest(new TypeError("body failed", { cause: aborted }), env)).toBe(true);
  });

  it("is not any other error, even while the request is broken (a bug stays a bug)", () => {
    expect(isBrokenRequest(new Error("aborted"), { incoming: { errored: aborted } })).toBe(false);
    expect(isBrokenRequest(aborted, { incoming: { errored: null } })).toBe(false);
    expect(isBrokenRequest(aborted, undefined)).toBe(false);
    expect(isBrokenRequest(aborted, {})).toBe(false);
  });
});

describe("a request whose body cannot be read, over a real socket", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start() {
    const backend = new ScriptedBackend();
    const pool = new SessionPool({
      backends: () => backend,
      sweepIntervalMs: 0,
      cooldown: { apiKeyMs: 0 },
      configDefaults: { apiKeys: ["sk-test-broken-body-0001"] },
    });
    cleanups.push(() => pool.close());
    const logger = recordingLogger(); // the program's pino logger is apps/server's; what matters here is what is logged
    const server = await startHttpServer({ pool, logger, host: "127.0.0.1", port: 0 });
    cleanups.push(() => server.close({ timeoutMs: 0 }));
    return { server, logger, backend };
  }

  /** Writes `text` on a raw socket; with `cutAfterMs`, destroys it then (an aborted upload). Resolves with the status line, if any. */
  function send(port: number, text: string, cutAfterMs?: number): Promise<string> {
    return new Promise((resolve) => {
      let received = "";
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(text);
        if (cutAfterMs !== undefined) setTimeout(() => socket.destroy(), cutAfterMs);
      });
      socket.on("data", (data: Buffer) => (received += data.toString("latin1")));
      socket.on("error", () => {});
      socket.on("close", () => resolve(received.split("\r\n")[0] ?? ""));
    });
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(condition()).toBe(true);
  }

  it("malformed chunks and aborted uploads are 400s logged at info without a stack; nothing reaches the session", async () => {
    const { server, logger, backend } = await start();
    const { lines } = logger;
    const head = (path: string, framing: string) => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${framing}\r\n`;
    const badChunk = `${head("/ask", "Transfer-Encoding: chunked\r\n")}ZZZ\r\n{}\r\n0\r\n\r\n`;
    expect(await send(server.port, badChunk)).toBe("HTTP/1.1 400 Bad Request");
    await send(server.port, `${head("/ask", "Content-Length: 100\r\n")}{"prompt":`, 50);
    await send(server.port, `${head("/renew", "Transfer-Encoding: chunked\r\n")}40\r\n{"api_key":`, 50);
    const requests = () => lines.filter((line) => line.msg === "request");
    await until(() => requests().length === 3);

    expect(requests().map(({ level, obj }) => ({ level, path: obj.path, status: obj.status }))).toEqual([
      { level: "info", path: "/ask", status: 400 },
      { level: "info", path: "/ask", status: 400 },
      { level: "info", path: "/renew", status: 400 },
    ]);
    expect(lines.filter((line) => line.level === "warn" || line.level === "error")).toEqual([]);
    expect(logger.text()).not.toContain("stack"); // an Error logged would show its stack here
    expect(lines.filter((line) => line.msg === "request body unreadable")).toHaveLength(3);
    expect(backend.requests).toHaveLength(0);
    // The server still answers.
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe("ok");
  });
});
