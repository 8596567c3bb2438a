/**
 * muvtuber's Go client (./go/chatbot_client.go, grpc-go) chats across a
 * restart of the server without a failed call: the server stops (SIGTERM)
 * while the client is between chats, the client's next Chat waits for the
 * port as a reconnecting client does (grpc-go's WaitForReady), and the
 * server, started again on the same address with the same SQLite file,
 * answers it in the same session with its history. Built and skipped as in
 * go-client.e2e.test.ts.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResult } from "./foreign-client.js";
import { buildGoClient, GO_MISSING, hasGo } from "./go-client.js";
import { type RunningProgram, startProgram } from "./program.js";

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

const available = hasGo();
if (!available && process.env.CI) throw new Error(`${GO_MISSING} (required in CI)`);

describe.skipIf(!available)("the Go client across a restart of the server", () => {
  let workDir = "";
  let binary = "";
  let openai: FakeOpenAI;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "chatbot-go-restart-"));
    binary = await buildGoClient(workDir);
    openai = await startFakeOpenAI();
  }, 300_000);

  afterAll(async () => {
    await openai?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it("chats on in the same session, waiting for the port while the server restarts, with no failed call", async () => {
    const port = await freePort();
    const env = {
      API_URL: openai.url,
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_STORE: `sqlite:${join(workDir, "sessions.db")}`,
    };
    const argv = ["--grpc", `127.0.0.1:${port}`];
    let program: RunningProgram = await startProgram({ env, argv });
    const script = [
      { method: "NewSession", request: { config: JSON.stringify({ version: 3, api_key: "sk-test-go-restart-0001" }) } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "one" } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "two" } },
      { method: "Pause" },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "three" }, timeout: 30, wait_for_ready: true },
    ];
    const client = spawn(binary, [`127.0.0.1:${port}`, JSON.stringify(script)], { stdio: ["pipe", "pipe", "inherit"] });
    const results: CallResult[] = [];
    let buffer = "";
    let onLine: (() => void) | undefined;
    client.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
        results.push(JSON.parse(buffer.slice(0, i)) as CallResult);
        buffer = buffer.slice(i + 1);
        onLine?.();
      }
    });
    const exited = new Promise<number | null>((resolve) => client.once("close", (code) => resolve(code)));
    const lines = (n: number): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (results.length >= n) resolve();
        };
        onLine = check;
        check();
      });

    await lines(4); // paused after two chats
    expect(await program.stop()).toBe(0);
    client.stdin.write("\n"); // the client calls now: the port is closed, it waits for it
    await new Promise((resolve) => setTimeout(resolve, 500));
    program = await startProgram({ env, argv });
    expect(await exited).toBe(0);
    expect(await program.stop()).toBe(0);

    expect(results.map((r) => r.code)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(results[4]!.ok).toEqual({ response: "echo: three" });
    const messages = openai.requests.at(-1)!.body.messages as Array<{ role: string }>;
    expect(messages.filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "one" },
      { role: "assistant", content: "echo: one" },
      { role: "user", content: "two" },
      { role: "assistant", content: "echo: two" },
      { role: "user", content: "three" },
    ]);
  }, 120_000);
});
