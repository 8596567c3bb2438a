/**
 * The `chatgptchatbot` program itself: flags, configuration errors, both
 * transports in one process around one pool, and the graceful stop.
 */
import { createServer } from "node:net";
import { maskSecret } from "@chatgptchatbot/core";
import { createPlaygroundFallback } from "@chatgptchatbot/playground";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@chatgptchatbot/proto/health";
import { v1 } from "@chatgptchatbot/proto/reflection";
import { type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runServer } from "../src/run.js";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { startProgram } from "./program.js";

const { newSession: NewSession, chat: Chat } = ChatbotService.method;

/** The services reflection lists; rejects with the grpc-js error when reflection is off. */
async function listServices(url: string): Promise<string[]> {
  const client = new GrpcJsClient(url);
  try {
    const [list] = await client.bidi(v1.ServerReflection.method.serverReflectionInfo, [
      { messageRequest: { case: "listServices", value: "" } },
    ]);
    return list?.messageResponse.case === "listServicesResponse"
      ? list.messageResponse.value.service.map((s) => s.name)
      : [];
  } finally {
    client.close();
  }
}

function run(argv: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = runServer({
    argv,
    env: { CHATBOT_STORE: "memory", ...env },
    shutdown: new Promise(() => {}),
    stdout: { write: (t: string) => stdout.push(t) },
    stderr: { write: (t: string) => stderr.push(t) },
  });
  return { code, stdout, stderr };
}

describe("the command line", () => {
  it("--help lists every flag and variable with its default, and exits 0", async () => {
    const { code, stdout } = run(["--help"]);
    expect(await code).toBe(0);
    const text = stdout.join("");
    expect(text).toContain("--grpc host:port");
    expect(text).toContain("--http host:port");
    expect(text).toContain("CHATGPT_V3_COOLDOWN  [default: 15]");
    expect(text).toContain("GRPC_REFLECTION  [default: false]");
  });

  it("stops on a bad variable with one line naming it, exit code 2", async () => {
    const { code, stderr } = run([], { CHATGPT_COOLDOWN: "soon" });
    expect(await code).toBe(2);
    expect(stderr).toEqual([
      'chatgptchatbot: CHATGPT_COOLDOWN: expected a number of seconds from 0 to 2147483, got "soon" (see --help)\n',
    ]);
  });

  it("stops on a bad flag with one line naming it, exit code 2", async () => {
    const bad = run(["--grpc", "localhost:http"]);
    expect(await bad.code).toBe(2);
    expect(bad.stderr.join("")).toMatch(/^chatgptchatbot: --grpc: .*\n$/);
    const unknown = run(["--port", "1"]);
    expect(await unknown.code).toBe(2);
    expect(unknown.stderr).toHaveLength(1);
  });

  it("exits 1 when the address is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    const { code, stderr } = run(["--grpc", `127.0.0.1:${port}`], { LOG_LEVEL: "silent" });
    expect(await code).toBe(1);
    expect(stderr.join("")).toContain("EADDRINUSE");
    await new Promise((resolve) => blocker.close(resolve));
  });
});

describe("the browser playground on the gRPC port", () => {
  const missingAssets = () => createPlaygroundFallback({ assetsDir: "/nonexistent/playground-assets/" });

  it("is not built for --help or a bad flag, so missing assets cannot break them", async () => {
    const create = vi.fn(missingAssets);
    for (const argv of [["--help"], ["--port", "1"]]) {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const code = await runServer({
        argv,
        env: { CHATBOT_STORE: "memory" },
        shutdown: new Promise(() => {}),
        stdout: { write: (t: string) => stdout.push(t) },
        stderr: { write: (t: string) => stderr.push(t) },
        createFallback: create,
      });
      expect(code).toBe(argv[0] === "--help" ? 0 : 2);
      expect(stderr.join("")).not.toContain("playground");
    }
    expect(create).not.toHaveBeenCalled();
  });

  it("is served at / when its assets are there", async () => {
    const program = await startProgram({ createFallback: () => createPlaygroundFallback() });
    const page = await fetch(new URL("/", program.grpcUrl));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("ChatGPTChatbot playground");
    expect(await program.stop()).toBe(0);
  });

  it("with its assets missing, logs a warning and serves gRPC without it (404 at /)", async () => {
    const program = await startProgram({ createFallback: missingAssets });
    const warning = program.logs.find((l) => l.msg === "no browser playground: it cannot be served");
    expect(warning).toMatchObject({ level: 40 });
    expect(String(warning?.err)).toContain("the playground is not built");
    expect((await fetch(new URL("/", program.grpcUrl))).status).toBe(404);
    const client = new GrpcJsClient(program.grpcUrl);
    const health = await client.unary(Health.method.check, { service: "" });
    expect(health.status).toBe(ServingStatus.SERVING);
    client.close();
    expect(await program.stop()).toBe(0);
  });
});

describe("both transports in one process", () => {
  let openai: FakeOpenAI;
  beforeEach(async () => {
    openai = await startFakeOpenAI();
  });
  afterEach(async () => {
    await openai.close();
  });

  it("--http alone serves only the HTTP API", async () => {
    const program = await startProgram({ argv: ["--http", "127.0.0.1:0"], env: { API_URL: openai.url } });
    expect(program.grpcUrl).toBe("");
    expect(await (await fetch(`${program.httpUrl}/healthz`)).text()).toBe("ok");
    expect(await program.stop()).toBe(0);
  });

  it("--grpc with --http serves both around one pool: a key cooling on one transport cools on the other", async () => {
    const key = "sk-test-shared-pool-0001";
    const program = await startProgram({
      argv: ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"],
      env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "60" },
    });
    const renew = await fetch(`${program.httpUrl}/renew`, {
      method: "POST",
      body: JSON.stringify({ version: 3, api_key: key }),
    });
    expect(renew.status).toBe(200);
    const ask = await fetch(`${program.httpUrl}/ask`, {
      method: "POST",
      body: JSON.stringify({ prompt: "over http" }),
    });
    expect(await ask.text()).toBe("echo: over http");

    const client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, { config: JSON.stringify({ version: 3, api_key: key }) });
    const cooled = await grpcError(client.unary(Chat, { sessionId, prompt: "over grpc" }));
    expect(cooled.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    client.close();
    expect(await program.stop()).toBe(0);
  });

  it("logs a /renew's token masked, as the HTTP API promises, and never raw", async () => {
    const web = await startFakeChatGPTWeb();
    const token = "eyJhbGciOiJSUzI1NiJ9.test-access-token-combined-0001";
    const program = await startProgram({
      argv: ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"],
      env: { API_URL: openai.url, CHATGPT_BASE_URL: web.url, CHATGPT_COOLDOWN: "0" },
    });
    const renew = await fetch(`${program.httpUrl}/renew`, {
      method: "POST",
      body: JSON.stringify({ access_token: token }),
    });
    expect(renew.status).toBe(200);
    const ask = await fetch(`${program.httpUrl}/ask`, { method: "POST", body: JSON.stringify({ prompt: "hi" }) });
    expect(await ask.text()).toBe("echo: hi");
    expect(web.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(await program.stop()).toBe(0);

    const renewed = program.logs.filter((l) => l.msg === "default session renewed with a new credential");
    expect(renewed).toHaveLength(1);
    expect(JSON.stringify(renewed[0])).toContain(JSON.stringify(maskSecret(token)));
    expect(JSON.stringify(program.logs)).not.toContain(token);
    expect(JSON.stringify(program.logs)).not.toContain("[redacted]");
    await web.close();
  });
});

describe("--debug", () => {
  it("serves reflection and logs prompts at debug level", async () => {
    const openai = await startFakeOpenAI();
    const program = await startProgram({ argv: ["--grpc", "127.0.0.1:0", "--debug"], env: { API_URL: openai.url } });
    expect(await listServices(program.grpcUrl)).toContain("muvtuber.chatbot.v2.ChatbotService");
    const client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-debug-0001" }),
    });
    expect((await client.unary(Chat, { sessionId, prompt: "a debug prompt" })).response).toBe("echo: a debug prompt");
    client.close();
    expect(await program.stop()).toBe(0);
    const prompt = program.logs.find((l) => l.msg === "Chat prompt");
    expect(prompt).toMatchObject({ level: 20 });
    expect(JSON.stringify(prompt)).toContain("a debug prompt");
    await openai.close();
  });

  it("without --debug (and without GRPC_REFLECTION) reflection is UNIMPLEMENTED and prompts are not logged", async () => {
    const openai = await startFakeOpenAI();
    const program = await startProgram({ env: { API_URL: openai.url } });
    const refused = await listServices(program.grpcUrl).then(
      () => undefined,
      (error: unknown) => error as grpc.ServiceError,
    );
    expect(refused?.code).toBe(grpc.status.UNIMPLEMENTED);
    const client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-debug-0002" }),
    });
    await client.unary(Chat, { sessionId, prompt: "a private prompt" });
    client.close();
    expect(await program.stop()).toBe(0);
    expect(program.logs.some((l) => l.msg === "Chat prompt")).toBe(false);
    expect(JSON.stringify(program.logs)).not.toContain("a private prompt");
    await openai.close();
  });
});

describe("graceful shutdown", () => {
  it("on SIGTERM during a slow upstream call still delivers the reply, then refuses new calls and exits 0", async () => {
    const openai = await startFakeOpenAI({ reply: () => "a slow but complete reply, word by word" });
    const program = await startProgram({ env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "0" } });
    const client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-shutdown-0001" }),
    });

    openai.enqueueFault({ kind: "trickle", intervalMs: 50 });
    const reply = client.unary(Chat, { sessionId, prompt: "take your time" });
    await vi.waitFor(() => expect(openai.requests).toHaveLength(1));
    const exited = program.stop("SIGTERM");

    expect((await reply).response).toBe("a slow but complete reply, word by word");
    expect(await exited).toBe(0);
    expect(openai.abortedRequests).toBe(0);
    // The reply was delivered after the shutdown had begun.
    const shuttingDown = program.logs.findIndex((l) => l.msg === "shutting down: finishing in-flight calls");
    const chatDone = program.logs.findIndex((l) => l.rpc === "ChatbotService/Chat" && l.code === "ok");
    expect(shuttingDown).toBeGreaterThan(-1);
    expect(chatDone).toBeGreaterThan(shuttingDown);
    expect(program.logs.findIndex((l) => l.msg === "stopped")).toBeGreaterThan(chatDone);

    const late = new GrpcJsClient(program.grpcUrl);
    expect((await grpcError(late.unary(Chat, { sessionId, prompt: "too late" }, { deadlineMs: 2_000 }))).code).toBe(
      grpc.status.UNAVAILABLE,
    );
    late.close();
    client.close();
    await openai.close();
  });

  it("while draining, answers health NOT_SERVING and refuses a new call (UNAVAILABLE), and the call in flight completes", async () => {
    const words = Array.from({ length: 12 }, (_, i) => `word${i}`).join(" ");
    const openai = await startFakeOpenAI({ reply: () => words });
    const program = await startProgram({ env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "0" } });
    const client = new GrpcJsClient(program.grpcUrl);
    const watcher = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-draining-0001" }),
    });
    const watch = watcher.serverStream(Health.method.watch, { service: "" });
    await vi.waitFor(() => expect(watch.messages.map((m) => m.status)).toEqual([ServingStatus.SERVING]));

    openai.enqueueFault({ kind: "trickle", intervalMs: 100 });
    let replied = false;
    const reply = client.unary(Chat, { sessionId, prompt: "take your time" }).finally(() => (replied = true));
    await vi.waitFor(() => expect(openai.requests).toHaveLength(1));
    const exited = program.stop("SIGTERM");

    // The drain has begun: watchers hear NOT_SERVING, and a new call finds no server.
    await watch.ended;
    expect(watch.messages.map((m) => m.status)).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    const late = new GrpcJsClient(program.grpcUrl);
    const refused = await grpcError(late.unary(NewSession, { config: "" }, { deadlineMs: 2_000 }));
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect(replied).toBe(false); // all of this happened while the call was still in flight

    expect((await reply).response).toBe(words);
    expect(await exited).toBe(0);
    expect(openai.abortedRequests).toBe(0);
    expect(program.logs.some((l) => l.rpc === "ChatbotService/NewSession" && l.code !== "ok")).toBe(false); // never reached the server
    for (const c of [late, watcher, client]) c.close();
    await openai.close();
  });

  it("cuts calls still running when the shutdown timeout ends, and still exits 0", async () => {
    const openai = await startFakeOpenAI();
    const program = await startProgram({ env: { API_URL: openai.url, CHATBOT_SHUTDOWN_TIMEOUT: "0.2" } });
    const client = new GrpcJsClient(program.grpcUrl);
    const { sessionId } = await client.unary(NewSession, {
      config: JSON.stringify({ version: 3, api_key: "sk-test-shutdown-0002" }),
    });
    openai.enqueueFault({ kind: "hang" });
    const call = grpcError(client.unary(Chat, { sessionId, prompt: "never answered" }));
    await vi.waitFor(() => expect(openai.requests).toHaveLength(1));
    expect(await program.stop()).toBe(0);
    expect((await call).code).toBe(grpc.status.UNAVAILABLE);
    await openai.waitForAbort(5_000);
    client.close();
    await openai.close();
  });
});
