import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createReadStream, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createBackends } from "@chatgptchatbot/chatgpt-client";
import { maskSecret, SessionPool } from "@chatgptchatbot/core";
import { createHttpApp } from "@chatgptchatbot/http-server";
import { startFakeOpenAI } from "@chatgptchatbot/testkit";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import type { DestinationStream } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LogLevel } from "./config.js";
import {
  bufferedLogDestination,
  censorNested,
  chooseLogFormat,
  createLogger,
  DROPPED_LINES_MESSAGE,
  LOG_BUFFER_BYTES,
  LOG_FLUSH_MS,
  LOG_MAX_WAITING_BYTES,
} from "./logger.js";

/** The CommonJS `fs` sonic-boom writes through (a spy on it sees every write the destination makes). */
const commonFs = createRequire(import.meta.url)("node:fs") as typeof import("node:fs");

const SERVER_KEY = "sk-test-server-default-key-0001";
const TOKEN = "eyJ-test-access-token-never-in-logs-0002";
const KEY = "sk-test-renewed-api-key-never-in-logs-0003";

/** A pino destination that keeps every JSON line. */
function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  const text = () => chunks.join("");
  return {
    stream,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function setup(level: LogLevel) {
  const log = capture();
  const logger = createLogger({ level, destination: log.stream });
  const backend = new ScriptedBackend();
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
    configDefaults: { apiKeys: [SERVER_KEY] },
    logger,
  });
  pools.push(pool);
  const app = createHttpApp({ pool, logger });
  const post = (path: string, body: string) => app.request(path, { method: "POST", body });
  return { log, logger, app, post };
}

describe("logging", () => {
  it("shows a renewed credential only masked, whatever happens to the request", async () => {
    const { log, post } = setup("trace");
    expect((await post("/renew", JSON.stringify({ access_token: TOKEN }))).status).toBe(200);
    expect((await post("/ask", JSON.stringify({ prompt: "hello" }))).status).toBe(200);
    expect((await post("/renew", JSON.stringify({ api_key: KEY, version: 3 }))).status).toBe(200);
    // Failed renews carrying the secret: not JSON, a bad version, whitespace.
    expect((await post("/renew", `access_token=${TOKEN}`)).status).toBe(400);
    expect((await post("/renew", JSON.stringify({ access_token: TOKEN, version: 9 }))).status).toBe(400);
    expect((await post("/renew", JSON.stringify({ access_token: `${TOKEN} x` }))).status).toBe(400);

    const text = log.text();
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(SERVER_KEY);
    const renewed = log.lines().filter((line) => line.msg === "default session renewed with a new credential");
    expect(renewed.map((line) => line.credentialMasked)).toEqual([maskSecret(TOKEN), maskSecret(KEY)]);
  });

  it("writes one JSON line per request with method, path, status and latency", async () => {
    const { log, post } = setup("info");
    await post("/ask", "not json");
    const line = log.lines().find((l) => l.msg === "request");
    expect(line).toMatchObject({
      level: 30,
      name: "chatgptchatbot",
      method: "POST",
      path: "/ask",
      status: 400,
      ms: expect.any(Number),
    });
  });

  it("logs prompts and replies at debug only", async () => {
    const info = setup("info");
    await info.post("/ask", JSON.stringify({ prompt: "a private prompt" }));
    expect(info.log.text()).not.toContain("a private prompt");

    const debug = setup("debug");
    await debug.post("/ask", JSON.stringify({ prompt: "a private prompt" }));
    const lines = debug.log.lines();
    expect(lines.find((l) => l.msg === "ask")).toMatchObject({ level: 20, prompt: "a private prompt" });
    expect(lines.find((l) => l.msg === "reply")).toMatchObject({ level: 20, reply: "echo: a private prompt" });
  });

  it("censors fields that would hold a raw credential", () => {
    const { log, logger } = setup("info");
    logger.info({ access_token: TOKEN, nested: { api_key: KEY, authorization: `Bearer ${KEY}` } }, "oops");
    logger.info(
      { credential: TOKEN, config: JSON.stringify({ api_key: KEY }), nested: { api_keys: [KEY] } },
      "oops again",
    );
    expect(log.text()).not.toContain(TOKEN);
    expect(log.text()).not.toContain(KEY);
    expect(log.lines()[0]).toMatchObject({ access_token: "[redacted]", nested: { api_key: "[redacted]" } });
    expect(log.lines()[1]).toMatchObject({
      credential: "[redacted]",
      config: "[redacted]",
      nested: { api_keys: "[redacted]" },
    });
  });

  it("censors them one level down in errors and class instances too, and in a child logger's bindings", () => {
    const { log, logger } = setup("info");
    const failure = Object.assign(new Error("upstream said no"), { config: { api_key: KEY } });
    class Request {
      authorization = `Bearer ${TOKEN}`;
      path = "/v1/chat/completions";
    }
    logger.info({ failure, request: new Request() }, "failed");
    logger.child({ access_token: TOKEN, name: "obs" }).info({ list: [KEY.length] }, "child");
    expect(log.text()).not.toContain(TOKEN);
    expect(log.text()).not.toContain(KEY);
    const [failed, child] = log.lines();
    expect(failed).toMatchObject({
      failure: { config: "[redacted]" },
      request: { authorization: "[redacted]", path: "/v1/chat/completions" },
    });
    expect(child).toMatchObject({ access_token: "[redacted]", name: "obs", list: [KEY.length] });
    // What was logged is not changed: the line gets a censored copy.
    expect(failure.config).toEqual({ api_key: KEY });
    expect(failure.message).toBe("upstream said no");
  });

  it("copies a line's fields only when there is something to censor", () => {
    const plain = { rpc: "ChatbotService/Chat", code: "ok", nested: { session: "1234abcd" }, ms: 1 };
    expect(censorNested(plain)).toBe(plain);
    const error = Object.assign(new TypeError("bad"), { credential: TOKEN });
    const censored = censorNested({ error }).error;
    expect(censored).toBeInstanceOf(TypeError);
    expect(censored).toMatchObject({ message: "bad", credential: "[redacted]" });
    expect(error.credential).toBe(TOKEN);
  });

  it("shows which key a failed upstream request used, masked (the backends' credentialMasked is not censored)", async () => {
    const upstream = await startFakeOpenAI();
    const log = capture();
    const logger = createLogger({ level: "info", destination: log.stream });
    const backends = createBackends({ apiUrl: upstream.url, maxRetries: 0, logger });
    const pool = new SessionPool({ backends: backends.resolve, sweepIntervalMs: 0, logger });
    try {
      upstream.enqueueFault({ kind: "status", status: 500 });
      const { sessionId } = await pool.create({ config: JSON.stringify({ version: 3, api_key: KEY }) });
      await expect(pool.chat({ sessionId, prompt: "hi" })).rejects.toMatchObject({ code: "upstream" });
    } finally {
      await pool.close();
      await backends.close();
      await upstream.close();
    }
    const failed = log.lines().find((line) => line.msg === "upstream request failed");
    expect(failed).toMatchObject({ backend: "openai", credentialMasked: maskSecret(KEY), status: 500 });
    expect(log.text()).not.toContain(KEY);
    expect(log.text()).not.toContain("[redacted]");
  });
});

describe("the default destination", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function fileLogger() {
    const dir = mkdtempSync(join(tmpdir(), "log-destination-"));
    dirs.push(dir);
    const file = join(dir, "log.jsonl");
    const destination = bufferedLogDestination(file) as ReturnType<typeof bufferedLogDestination> & {
      end(): void;
      flushSync(): void;
    };
    await once(destination as unknown as NodeJS.EventEmitter, "ready");
    const logger = createLogger({ level: "info", destination });
    const read = () => readFileSync(file, "utf8");
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 5_000; !done(); await new Promise((r) => setTimeout(r, 10)))
        if (Date.now() > deadline) throw new Error(`the log still holds ${JSON.stringify(read())}`);
    };
    return { logger, destination, read, until };
  }

  it("holds a line until the flush interval passes, then writes it", async () => {
    const { logger, destination, read, until } = await fileLogger();
    const start = Date.now();
    logger.info({ rpc: "ChatbotService/Chat", code: "ok" }, "rpc");
    expect(read()).toBe("");
    await until(() => read().includes('"msg":"rpc"'));
    // Not written at once: it waited for the interval (give the timer a little slack).
    expect(Date.now() - start).toBeGreaterThanOrEqual(LOG_FLUSH_MS - 20);
    destination.end();
  });

  it("writes nothing while no line waits (no timer left running on an idle server)", async () => {
    const { logger, destination, read, until } = await fileLogger();
    const writes = vi.spyOn(commonFs, "write");
    try {
      await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS * 4));
      expect(writes).not.toHaveBeenCalled();
      logger.info("one line");
      await until(() => read().includes("one line"));
      const afterLine = writes.mock.calls.length;
      expect(afterLine).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS * 4));
      expect(writes.mock.calls.length).toBe(afterLine);
    } finally {
      writes.mockRestore();
      destination.end();
    }
  });

  it("writes a full buffer without waiting, and what is left at a synchronous flush (as at exit)", async () => {
    const { logger, destination, read, until } = await fileLogger();
    const filler = "x".repeat(200);
    const lines = Math.ceil(LOG_BUFFER_BYTES / filler.length) + 1;
    for (let i = 0; i < lines; i++) logger.info({ i, filler }, "line");
    await until(() => read().length > 0);
    logger.info({ last: true }, "last line");
    destination.flushSync();
    const written = read()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as { msg: string });
    expect(written.map((line) => line.msg)).toEqual([...Array(lines).fill("line"), "last line"]);
    destination.end();
  });
});

describe("the default destination when nobody reads stdout", () => {
  it("holds at most LOG_MAX_WAITING_BYTES, drops the lines beyond, writes whole lines once read again, and says how many it dropped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "log-fifo-"));
    const fifo = join(dir, "stdout");
    execFileSync("mkfifo", [fifo]);
    try {
      // A reader that reads nothing yet (a stalled collector), then the writing end the logger gets.
      // (The FIFO's two ends open together: the reader's asynchronous open is under way before the writer's.)
      const reader = createReadStream(fifo);
      reader.pause();
      await new Promise((resolve) => setImmediate(resolve));
      const opened = once(reader, "open");
      const fd = openSync(fifo, "w");
      await opened;
      const destination = bufferedLogDestination(fd) as DestinationStream & NodeJS.EventEmitter;
      let dropped = 0;
      destination.on("drop", () => {
        dropped++;
      });
      let counted = 0; // what the program's metric hears
      const logger = createLogger({ level: "info", destination, onDroppedLine: () => counted++ });
      const filler = "y".repeat(1000);
      const lines = Math.ceil((LOG_MAX_WAITING_BYTES * 1.5) / filler.length);
      for (let i = 0; i < lines; i++) logger.info({ i, filler }, "line");
      expect(dropped).toBeGreaterThan(0);
      expect(counted).toBe(dropped);

      // Reading again: what comes is whole lines, no more than the bound plus what the pipe and the reader held,
      // then (once what waited is written) one warning that says how many were dropped.
      let text = "";
      reader.setEncoding("utf8");
      reader.on("data", (chunk: string | Buffer) => {
        text += String(chunk);
      });
      reader.resume();
      const until = (needle: string) =>
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (text.includes(needle)) {
              clearInterval(poll);
              resolve();
            }
          }, 20);
        });
      await until(DROPPED_LINES_MESSAGE);
      logger.info({ last: true }, "after");
      await until('"msg":"after"');
      expect(text.length).toBeLessThan(LOG_MAX_WAITING_BYTES + 512 * 1024);
      const parsed = text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { i?: number; msg: string; level: number; droppedLines?: number });
      expect(parsed.filter((line) => line.msg === "line").length).toBe(lines - dropped);
      expect(parsed.filter((line) => line.msg === DROPPED_LINES_MESSAGE)).toEqual([
        expect.objectContaining({ level: 40, droppedLines: dropped }),
      ]);
      expect(parsed.at(-1)?.msg).toBe("after");
      // The destination owns the descriptor from here: ending it closes it.
      const closed = once(destination, "close");
      (destination as unknown as { end(): void }).end();
      await closed;
      reader.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("log formats", () => {
  it("chooses pretty for a terminal and JSON otherwise, unless LOG_FORMAT says", () => {
    expect(chooseLogFormat({ configured: undefined, isTerminal: true })).toBe("pretty");
    expect(chooseLogFormat({ configured: undefined, isTerminal: false })).toBe("json");
    expect(chooseLogFormat({ configured: "json", isTerminal: true })).toBe("json");
    expect(chooseLogFormat({ configured: "pretty", isTerminal: false })).toBe("pretty");
  });

  it("writes human-readable lines in the pretty format, still redacting credentials", () => {
    const out = capture();
    const logger = createLogger({ level: "info", destination: out.stream, format: "pretty" });
    logger.info({ session: "1234abcd", api_key: KEY }, "session created");
    const text = out.text();
    expect(text).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chatgptchatbot\): session created\n {4}session: "1234abcd"\n {4}api_key: "\[redacted\]"\n$/,
    );
    expect(text).not.toContain(KEY);
    expect(() => JSON.parse(text)).toThrow();
  });

  it("writes one JSON object a line by default", () => {
    const out = capture();
    createLogger({ level: "info", destination: out.stream }).info({ session: "1234abcd" }, "session created");
    expect(out.lines()).toEqual([
      expect.objectContaining({ level: 30, msg: "session created", session: "1234abcd", name: "chatgptchatbot" }),
    ]);
  });
});
