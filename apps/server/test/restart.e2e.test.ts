/**
 * Sessions survive a restart of the built program (`node dist/main.js`, real
 * processes, real signals), with its default store (SQLite) in a temp folder:
 * after SIGTERM or SIGKILL a session chats on with its history, a cooldown
 * still running is still refused, twenty SIGKILLs at random moments lose no
 * acknowledged turn, the HTTP API's default session and its renewed
 * credential come back, and a damaged file or a wrong key stops the start
 * with one line and exit code 2. Needs `pnpm build` first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GrpcJsClient, grpcError } from "./grpc-js-client.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const KEY_A = Buffer.alloc(32, 1).toString("base64");
const KEY_B = Buffer.alloc(32, 2).toString("base64");

/** A port on 127.0.0.1 that was free a moment ago: a restart listens where the clients connect. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

interface Program {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
}

let folder: string;
let openai: FakeOpenAI;
let grpcPort: number;
let httpPort: number;
const running: Program[] = [];

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), "chatbot-restart-"));
  openai = await startFakeOpenAI(); // replies "echo: " and the last user message
  grpcPort = await freePort();
  httpPort = await freePort();
});

afterEach(async () => {
  for (const program of running.splice(0)) {
    if (program.child.exitCode === null && program.child.signalCode === null) program.child.kill("SIGKILL");
    await program.exit;
  }
  await openai.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The program with the default store, its state folder in the test's temp folder (never the real home). */
function spawnProgram(env: Record<string, string> = {}): Program {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm build first`);
  const child = spawn(process.execPath, [MAIN, "--grpc", `127.0.0.1:${grpcPort}`, "--http", `127.0.0.1:${httpPort}`], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: join(folder, "home"),
      XDG_STATE_HOME: join(folder, "state"),
      CHATBOT_SWEEP_INTERVAL: "0",
      API_URL: openai.url,
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_MAX_RETRIES: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim() !== "") lines.push(JSON.parse(line));
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const program = { child, lines, stderr: () => stderr, exit };
  running.push(program);
  return program;
}

async function startProgram(env: Record<string, string> = {}): Promise<Program> {
  const program = spawnProgram(env);
  await vi.waitFor(
    () => {
      if (program.child.exitCode !== null)
        throw new Error(`exited with ${program.child.exitCode}: ${program.stderr()}`);
      expect(program.lines.some((l) => l.msg === "listening")).toBe(true);
    },
    { timeout: 20_000, interval: 20 },
  );
  return program;
}

async function stop(program: Program, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  program.child.kill(signal);
  expect(await program.exit).toBe(signal === "SIGTERM" ? 0 : null);
}

const config = (key: string): string => JSON.stringify({ version: 3, api_key: key });
const sentMessages = (index = -1): Array<{ role: string; content: string }> =>
  openai.requests.at(index)!.body.messages as Array<{ role: string; content: string }>;

describe("a restart of the program (SQLite, the default store)", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`after ${signal}, a session chats on and the upstream receives the earlier turns`, async () => {
      const first = await startProgram();
      const listening = first.lines.find((l) => l.msg === "listening")!;
      expect(listening.store).toBe("sqlite");
      expect(listening.storePath).toBe(join(folder, "state", "chatgptchatbot", "sessions.db"));
      let client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
      const { sessionId } = await client.unary(ChatbotService.method.newSession, {
        config: config("sk-test-restart-0001"),
        initialPrompt: "You are a cat.",
      });
      expect((await client.unary(ChatbotService.method.chat, { sessionId, prompt: "one" })).response).toBe("echo: one");
      expect((await client.unary(ChatbotService.method.chat, { sessionId, prompt: "two" })).response).toBe("echo: two");
      client.close();
      await stop(first, signal);

      await startProgram();
      client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
      expect((await client.unary(ChatbotService.method.chat, { sessionId, prompt: "three" })).response).toBe(
        "echo: three",
      );
      client.close();
      expect(sentMessages()).toEqual([
        { role: "system", content: "You are a cat." },
        { role: "user", content: "one" },
        { role: "assistant", content: "echo: one" },
        { role: "user", content: "two" },
        { role: "assistant", content: "echo: two" },
        { role: "user", content: "three" },
      ]);
      expect(openai.requests.at(-1)!.headers.authorization).toBe("Bearer sk-test-restart-0001");
    }, 60_000);
  }

  it("a cooldown still running before the restart is refused after it", async () => {
    const env = { CHATGPT_V3_COOLDOWN: "60" };
    const first = await startProgram(env);
    let client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
    const { sessionId } = await client.unary(ChatbotService.method.newSession, {
      config: config("sk-test-cooldown-0002"),
    });
    await client.unary(ChatbotService.method.chat, { sessionId, prompt: "once" });
    client.close();
    await stop(first, "SIGKILL");

    await startProgram(env);
    client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
    const error = await grpcError(client.unary(ChatbotService.method.chat, { sessionId, prompt: "burst" }));
    client.close();
    expect(error.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(error.details).toMatch(/^cooling down: try again in (5\d|60) s$/);
    expect(openai.requests).toHaveLength(1);
  }, 60_000);

  it("20 SIGKILLs at random moments during chats lose no acknowledged turn; then every session reads back and chats", async () => {
    const env = { CHATBOT_MAX_TOKENS: "1000000" };
    const sessions: string[] = [];
    const acknowledged = new Map<string, string[]>();
    let program = await startProgram(env);
    let client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
    for (let i = 0; i < 4; i++) {
      const { sessionId } = await client.unary(ChatbotService.method.newSession, {
        config: config(`sk-test-kill-000${i}`),
      });
      sessions.push(sessionId);
      acknowledged.set(sessionId, []);
    }
    let n = 0;
    for (let kill = 0; kill < 20; kill++) {
      // Every session chats in a loop until the process dies under it.
      let alive = true;
      let acksThisRound = 0;
      const chatting = sessions.map(async (sessionId) => {
        while (alive) {
          const prompt = `turn ${n++}`;
          let response: string;
          try {
            ({ response } = await client.unary(ChatbotService.method.chat, { sessionId, prompt }));
          } catch {
            return; // the server is gone: this call was in flight
          }
          expect(response).toBe(`echo: ${prompt}`);
          acknowledged.get(sessionId)!.push(prompt);
          acksThisRound++;
        }
      });
      // The first chat after a start loads the tokenizer; once chats flow, kill at a random moment.
      await vi.waitFor(() => expect(acksThisRound).toBeGreaterThan(0), { timeout: 20_000, interval: 5 });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
      program.child.kill("SIGKILL");
      await program.exit;
      alive = false;
      await Promise.all(chatting);
      client.close();
      program = await startProgram(env);
      client = new GrpcJsClient(`http://127.0.0.1:${grpcPort}`);
    }
    for (const sessionId of sessions) {
      expect((await client.unary(ChatbotService.method.chat, { sessionId, prompt: "after" })).response).toBe(
        "echo: after",
      );
      const history = sentMessages()
        .filter((m) => m.role === "user")
        .map((m) => m.content);
      const acked = acknowledged.get(sessionId)!;
      expect(acked.length).toBeGreaterThan(0);
      // Every acknowledged turn is stored, in order; at most one turn in flight per kill beyond them.
      expect(history.filter((p) => acked.includes(p))).toEqual(acked);
      expect(history.length - 1 - acked.length).toBeLessThanOrEqual(20);
      expect(history.at(-1)).toBe("after");
    }
    client.close();
  }, 240_000);

  it("the HTTP API's default session and its renewed credential survive a restart", async () => {
    const first = await startProgram();
    const http = `http://127.0.0.1:${httpPort}`;
    const renewal = JSON.stringify({ api_key: "sk-test-renewed-http-0003", version: 3 });
    const renew = await fetch(`${http}/renew`, { method: "POST", body: renewal });
    expect(renew.status).toBe(200);
    expect(
      await (await fetch(`${http}/ask`, { method: "POST", body: JSON.stringify({ prompt: "hello" }) })).text(),
    ).toBe("echo: hello");
    await stop(first, "SIGKILL");

    await startProgram();
    expect(
      await (await fetch(`${http}/ask`, { method: "POST", body: JSON.stringify({ prompt: "again" }) })).text(),
    ).toBe("echo: again");
    expect(openai.requests.at(-1)!.headers.authorization).toBe("Bearer sk-test-renewed-http-0003");
    expect(sentMessages().filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "hello" },
      { role: "assistant", content: "echo: hello" },
      { role: "user", content: "again" },
    ]);
  }, 60_000);

  it("a corrupt file stops the start with one line naming the file, exit code 2", async () => {
    const first = await startProgram();
    await stop(first, "SIGTERM");
    const file = join(folder, "state", "chatgptchatbot", "sessions.db");
    writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
    const program = spawnProgram();
    expect(await program.exit).toBe(2);
    const lines = program.stderr().trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/not a database|unreadable|corrupt/);
  }, 60_000);

  it("a wrong CHATBOT_STORE_KEY stops the start with one line naming the file, exit code 2, never the key", async () => {
    const first = await startProgram({ CHATBOT_STORE_KEY: KEY_A });
    await stop(first, "SIGTERM");
    const program = spawnProgram({ CHATBOT_STORE_KEY: KEY_B });
    expect(await program.exit).toBe(2);
    const lines = program.stderr().trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(folder, "state", "chatgptchatbot", "sessions.db"));
    expect(lines[0]).toMatch(/CHATBOT_STORE_KEY is not the key/);
    expect(lines[0]).not.toContain(KEY_A);
    expect(lines[0]).not.toContain(KEY_B);
  }, 60_000);
});
