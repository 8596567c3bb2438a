/**
 * End to end with a Go client on grpc-go, as muvtuber (the service's most
 * important users) has: `grpc.Dial(addr, grpc.WithInsecure())`, plaintext
 * HTTP/2. The client (./go/chatbot_client.go) is compiled once, in GOPATH mode
 * against Debian's golang-google-grpc-dev (no module proxy needed); .ci/run
 * installs golang-go and it. Outside CI the suite is skipped when either is
 * missing.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProgram, startProgram } from "./program.js";

const GOCODE = "/usr/share/gocode";
const CLIENT_DIR = fileURLToPath(new URL("./go/", import.meta.url));

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return existsSync(join(GOCODE, "src/google.golang.org/grpc"));
  } catch {
    return false;
  }
}
const available = hasGo();
if (!available && process.env.CI) throw new Error(`go and grpc-go under ${GOCODE} are required in CI (apt-get install golang-go golang-google-grpc-dev)`);
if (!available) console.warn(`skipping the Go client tests: no \`go\` on PATH or no grpc-go under ${GOCODE}/src`);

type Result = { ok?: Record<string, string>; code?: string; details?: string };

let workDir: string;
let client: string;

async function runGo(target: string, script: unknown[]): Promise<Result[]> {
  const { stdout } = await promisify(execFile)(client, [target, JSON.stringify(script)], { timeout: 60_000 });
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Result);
}

describe.skipIf(!available)("ChatbotService with a Go grpc-go client", () => {
  let openai: FakeOpenAI;
  let program: RunningProgram;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "chatbot-go-client-"));
    client = join(workDir, "chatbot_client");
    // GOPATH mode: grpc-go and its dependencies come from Debian's gocode tree.
    await promisify(execFile)("go", ["build", "-o", client, "chatbot_client.go"], {
      cwd: CLIENT_DIR,
      timeout: 300_000,
      env: { ...process.env, GO111MODULE: "off", GOPATH: `${workDir}/gopath:${GOCODE}`, GOCACHE: join(workDir, "cache"), GOFLAGS: "" },
    });
    openai = await startFakeOpenAI();
    program = await startProgram({
      env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "15", CHATBOT_MAX_RETRIES: "0" },
    });
  }, 300_000);

  afterAll(async () => {
    expect(await program?.stop()).toBe(0);
    await openai?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("drives the lifecycle and gets the old service's status codes", async () => {
    const target = new URL(program.grpcUrl).host;
    const config = (key: string) => JSON.stringify({ version: 3, api_key: key });
    const results = await runGo(target, [
      { method: "NewSession", request: { config: config("sk-test-go-0001"), initial_prompt: "You are a cat." } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "你好" } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "again, too soon" } },
      { method: "NewSession", request: { config: config("sk-test-go-0002") } },
      { method: "Chat", request: { session_id: "$3.session_id", prompt: "another key" } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "" } },
      { method: "Chat", request: { session_id: "00000000-0000-4000-8000-000000000000", prompt: "hi" } },
      { method: "NewSession", request: { config: "not json" } },
      { method: "DeleteSession", request: { session_id: "$0.session_id" } },
      { method: "DeleteSession", request: { session_id: "$0.session_id" } },
      { method: "DeleteSession", request: { session_id: "" } },
    ]);
    expect(results).toHaveLength(11);
    const [created, chat, cooled, other, otherChat, emptyPrompt, unknown, badConfig, deleted, deletedAgain, emptyId] = results;

    expect(created!.ok!.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created!.ok!.initial_response ?? "").toBe("");
    expect(chat!.ok).toEqual({ response: "echo: 你好" }); // field 2 on the wire
    expect(cooled).toEqual({ code: "RESOURCE_EXHAUSTED", details: "cooling down: try again in 15 s" });
    expect(other!.ok!.session_id).not.toBe(created!.ok!.session_id);
    expect(otherChat!.ok).toEqual({ response: "echo: another key" }); // a different key is not slowed
    expect(emptyPrompt).toEqual({ code: "INVALID_ARGUMENT", details: "prompt is required" });
    expect(unknown!.code).toBe("NOT_FOUND");
    expect(badConfig!.code).toBe("INVALID_ARGUMENT");
    expect(badConfig!.details).toMatch(/^version & access_token\|api_key is required: config is not valid JSON/);
    expect(deleted!.ok).toEqual({ session_id: created!.ok!.session_id });
    expect(deletedAgain!.code).toBe("NOT_FOUND");
    expect(emptyId).toEqual({ code: "INVALID_ARGUMENT", details: "session_id is required" });

    // What reached the upstream: the system prompt and the prompt, under each session's own key.
    const first = openai.requests[0]!;
    expect(first.headers.authorization).toBe("Bearer sk-test-go-0001");
    expect(first.body.messages).toEqual([
      { role: "system", content: "You are a cat." },
      { role: "user", content: "你好" },
    ]);
    expect(openai.requests[1]!.headers.authorization).toBe("Bearer sk-test-go-0002");
    expect(openai.requests).toHaveLength(2);
  });

  it("a client deadline ends the call with DEADLINE_EXCEEDED and aborts the upstream request", async () => {
    const target = new URL(program.grpcUrl).host;
    openai.enqueueFault({ kind: "hang" });
    const aborted = openai.abortedRequests;
    const results = await runGo(target, [
      { method: "NewSession", request: { config: JSON.stringify({ version: 3, api_key: "sk-test-go-0003" }) } },
      { method: "Chat", request: { session_id: "$0.session_id", prompt: "never answered" }, timeout: 1 },
    ]);
    expect(results[0]!.ok!.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[1]!.code).toBe("DEADLINE_EXCEEDED");
    await openai.waitForAbort();
    expect(openai.abortedRequests).toBeGreaterThan(aborted);
  });
});
