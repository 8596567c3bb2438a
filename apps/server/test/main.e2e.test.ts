/**
 * The built program as users run it (`node dist/main.js`, a real process and
 * a real SIGTERM): the reply to a call in flight is still delivered, then the
 * process exits 0. Needs `pnpm build` first (turbo's test task does it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GrpcJsClient } from "./grpc-js-client.js";
import { stateFolder } from "./state-folder.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function start(env: Record<string, string>): {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
} {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm build first`);
  const state = stateFolder(); // the default store in a temp folder, never the real home
  const child = spawn(process.execPath, [MAIN, "--grpc", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "", CHATBOT_SWEEP_INTERVAL: "0", ...state.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim() !== "") lines.push(JSON.parse(line));
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exit.then(() => state.remove());
  return { child, lines, exit };
}

describe("node dist/main.js", () => {
  let openai: FakeOpenAI | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child?.exitCode === null) child.kill("SIGKILL");
    await openai?.close();
  });

  it("on SIGTERM during a slow upstream call delivers the reply, then exits 0", async () => {
    openai = await startFakeOpenAI({ reply: () => "slow, but it all arrives" });
    const program = start({ API_URL: openai.url, CHATGPT_V3_COOLDOWN: "0" });
    child = program.child;
    await vi.waitFor(() => expect(program.lines.some((l) => l.msg === "listening")).toBe(true), { timeout: 10_000 });
    const url = program.lines.find((l) => l.msg === "listening")!.grpc as string;

    const client = new GrpcJsClient(url);
    const { sessionId } = await client.unary(ChatbotService.method.newSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-main-process-0001" }),
    });
    openai.enqueueFault({ kind: "trickle", intervalMs: 50 });
    const reply = client.unary(ChatbotService.method.chat, { sessionId, prompt: "slowly" });
    await vi.waitFor(() => expect(openai!.requests).toHaveLength(1));
    child.kill("SIGTERM");

    expect((await reply).response).toBe("slow, but it all arrives");
    expect(await program.exit).toBe(0);
    expect(program.lines.map((l) => l.msg)).toContain("stopped");
    expect(program.lines.find((l) => l.reason !== undefined)?.reason).toBe("SIGTERM");
    client.close();
  });

  it("with the background sweep running (CHATBOT_SWEEP_INTERVAL=1), exits 0 promptly on SIGTERM", async () => {
    openai = await startFakeOpenAI();
    const program = start({
      API_URL: openai.url,
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_SWEEP_INTERVAL: "1",
      CHATBOT_RENEW_INTERVAL: "1",
    });
    child = program.child;
    await vi.waitFor(() => expect(program.lines.some((l) => l.msg === "listening")).toBe(true), { timeout: 10_000 });
    const url = program.lines.find((l) => l.msg === "listening")!.grpc as string;
    const client = new GrpcJsClient(url);
    await client.unary(ChatbotService.method.newSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-main-sweep-0001" }),
      initialPrompt: "be brief",
    });
    client.close();
    // The sweep is live: it renews the conversation once it is older than a second.
    await vi.waitFor(() => expect(program.lines.some((l) => l.msg === "conversation renewed")).toBe(true), {
      timeout: 5_000,
    });

    const signalled = performance.now();
    child.kill("SIGTERM");
    expect(await program.exit).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(2_000);
    expect(program.lines.map((l) => l.msg)).toContain("stopped");
  });

  it("serves the browser playground at / on the gRPC port", async () => {
    const program = start({});
    child = program.child;
    await vi.waitFor(() => expect(program.lines.some((l) => l.msg === "listening")).toBe(true), { timeout: 10_000 });
    const url = program.lines.find((l) => l.msg === "listening")!.grpc as string;
    const page = await fetch(new URL("/", url));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("ChatGPTChatbot playground");
    expect((await fetch(new URL("/no-such-page", url))).status).toBe(404);
    child.kill("SIGTERM");
    expect(await program.exit).toBe(0);
  });
});
