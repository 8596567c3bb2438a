/**
 * Access tokens, the DNS-rebinding host guard and the log formats, end to end
 * against the built `chatgptchatbot` program (a child process, both ports on
 * 127.0.0.1) with the testkit's fake OpenAI upstream. Browsers are in
 * browser-guard.e2e.test.ts; here every request is built by hand, so the test
 * controls exactly which Host, Origin and Sec-Fetch-* headers go out.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltProgram, startBuiltProgram } from "./built-program.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const TOKEN = "test-server-token-e2e-0001";
const OTHER_TOKEN = "test-server-token-e2e-0002";
const API_KEY = "sk-test-access-guard-e2e";
const BEARER = { authorization: `Bearer ${TOKEN}` };

let openai: FakeOpenAI;
let dir: string;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  dir = mkdtempSync(join(tmpdir(), "access-guard-"));
});

afterAll(async () => {
  await openai?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** One HTTP/1.1 request with exactly these headers (fetch does not let a test set Host). */
function rawRequest(
  url: string,
  {
    method = "GET",
    path,
    headers = {},
    body,
  }: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs the built program to its exit (for start failures): exit code, stdout and stderr. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, "--grpc", "127.0.0.1:0"], {
      env: { PATH: process.env.PATH ?? "", CHATBOT_STORE: "memory", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("access tokens (CHATBOT_AUTH_TOKENS_FILE)", { timeout: 30_000 }, () => {
  let program: BuiltProgram;

  beforeAll(async () => {
    const file = join(dir, "tokens");
    writeFileSync(file, `# chatbot tokens\n${TOKEN}\n${OTHER_TOKEN}\n`);
    program = await startBuiltProgram({
      env: { CHATBOT_STORE: "memory", CHATBOT_AUTH_TOKENS_FILE: file, CHATGPT_V3_COOLDOWN: "0", API_URL: openai.url },
    });
  });

  afterAll(async () => {
    expect(await program?.stop()).toBe(0);
    const logged = JSON.stringify(program.logs) + program.otherOutput.join("");
    for (const token of [TOKEN, OTHER_TOKEN]) expect(logged).not.toContain(token);
    expect(program.logs.find((line) => line.msg === "listening")).toMatchObject({ accessTokens: 2, hostGuard: "on" });
  });

  const transports = {
    grpc: (url: string) => createGrpcTransport({ baseUrl: url }),
    "grpc-web": (url: string) => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
    connect: (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
  } as const;

  it.each(Object.keys(transports) as (keyof typeof transports)[])(
    "over %s: an RPC without or with a wrong token is UNAUTHENTICATED; with either token it is served; health is open",
    async (protocol) => {
      const client = createClient(ChatbotService, transports[protocol](program.grpcUrl));
      const sessionConfig = JSON.stringify({ version: 3, api_key: API_KEY });
      for (const headers of [
        {},
        { authorization: "Bearer test-server-token-e2e-9999" },
        { authorization: `Basic ${TOKEN}` },
      ]) {
        const error = await client.newSession({ config: sessionConfig }, { headers }).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(error?.code).toBe(Code.Unauthenticated);
        expect(error?.metadata.get("www-authenticate")).toBe("Bearer");
      }
      const before = openai.requests.length;
      for (const token of [TOKEN, OTHER_TOKEN]) {
        const headers = { authorization: `Bearer ${token}` };
        const { sessionId } = await client.newSession({ config: sessionConfig }, { headers });
        expect((await client.chat({ sessionId, prompt: `hi over ${protocol}` }, { headers })).response).toBe(
          `echo: hi over ${protocol}`,
        );
      }
      expect(openai.requests.length - before).toBe(2);
      expect((await createClient(Health, transports[protocol](program.grpcUrl)).check({ service: "" })).status).toBe(1);
    },
  );

  it("the HTTP API: /ask and /renew need the token (401, WWW-Authenticate: Bearer), /healthz does not", async () => {
    const ask = { method: "POST", path: "/ask", body: JSON.stringify({ prompt: "hello" }) };
    const refused = await rawRequest(program.httpUrl, ask);
    expect([refused.status, refused.headers["www-authenticate"]]).toEqual([401, "Bearer"]);
    const renew = await rawRequest(program.httpUrl, {
      method: "POST",
      path: "/renew",
      body: JSON.stringify({ api_key: API_KEY, version: 3 }),
    });
    expect(renew.status).toBe(401);
    expect((await rawRequest(program.httpUrl, { path: "/healthz" })).status).toBe(200);
    const renewed = await rawRequest(program.httpUrl, {
      method: "POST",
      path: "/renew",
      headers: BEARER,
      body: JSON.stringify({ api_key: API_KEY, version: 3 }),
    });
    expect(renewed.status).toBe(200);
    const answered = await rawRequest(program.httpUrl, { ...ask, headers: BEARER });
    expect([answered.status, answered.body]).toEqual([200, "echo: hello"]);
  });

  it("/metrics on either port needs the token (the endpoint itself lands with the metrics work)", async () => {
    for (const url of [program.grpcUrl, program.httpUrl]) {
      const refused = await rawRequest(url, { path: "/metrics" });
      expect([refused.status, refused.headers["www-authenticate"]]).toEqual([401, "Bearer"]);
      expect((await rawRequest(url, { path: "/metrics", headers: BEARER })).status).not.toBe(401);
    }
  });

  it("the playground page itself loads without a token (its field is where the token is typed)", async () => {
    const page = await rawRequest(program.grpcUrl, {
      path: "/",
      headers: { "sec-fetch-mode": "navigate", host: "localhost" },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="server-token"');
  });
});

describe("the host guard", { timeout: 30_000 }, () => {
  let program: BuiltProgram;
  let openPrograms: BuiltProgram[] = [];

  beforeAll(async () => {
    program = await startBuiltProgram({
      env: { CHATBOT_STORE: "memory", CHATGPT_V3_COOLDOWN: "0", OPENAI_API_KEY: API_KEY, API_URL: openai.url },
    });
  });

  afterAll(async () => {
    await Promise.all([program, ...openPrograms].map((p) => p?.stop()));
    openPrograms = [];
  });

  const newSession = (url: string, headers: Record<string, string>) =>
    rawRequest(url, {
      method: "POST",
      path: "/muvtuber.chatbot.v2.ChatbotService/NewSession",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ config: JSON.stringify({ version: 3 }) }), // the server's default key
    });

  it("refuses browser requests naming a foreign Host on both ports (403), before any upstream call", async () => {
    const before = openai.requests.length;
    const grpcPort = new URL(program.grpcUrl).port;
    const httpPort = new URL(program.httpUrl).port;
    const browsers: Record<string, string>[] = [
      { origin: `http://evil.test:${grpcPort}` },
      { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" },
    ];
    for (const browser of browsers) {
      const rpc = await newSession(program.grpcUrl, { host: `evil.test:${grpcPort}`, ...browser });
      expect([rpc.status, rpc.body]).toEqual([
        403,
        "this server does not answer browsers under this host name (see CHATBOT_ALLOWED_HOSTS)\n",
      ]);
      const ask = await rawRequest(program.httpUrl, {
        method: "POST",
        path: "/ask",
        headers: { host: `evil.test:${httpPort}`, ...browser },
        body: JSON.stringify({ prompt: "spend the operator's key" }),
      });
      expect(ask.status).toBe(403);
    }
    expect(openai.requests.length).toBe(before);
  });

  it("serves browsers under loopback names and IP literals, and clients that are not browsers under any name", async () => {
    const port = new URL(program.grpcUrl).port;
    for (const host of [`localhost:${port}`, `app.localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const res = await newSession(program.grpcUrl, { host, origin: `http://${host}` });
      expect(res.status, host).toBe(200);
    }
    // muvtuber's Go client dials a compose service name and sends no Origin.
    expect((await newSession(program.grpcUrl, { host: `chatbot:${port}` })).status).toBe(200);
    const ask = await rawRequest(program.httpUrl, {
      method: "POST",
      path: "/ask",
      headers: { host: "chatbot:9006" },
      body: '{"prompt":"hi"}',
    });
    expect(ask.status).toBe(200);
  });

  it("allows CHATBOT_ALLOWED_HOSTS names, and * turns the check off", async () => {
    const listed = await startBuiltProgram({
      env: {
        CHATBOT_STORE: "memory",
        CHATBOT_ALLOWED_HOSTS: "chatbot.example.com",
        OPENAI_API_KEY: API_KEY,
        API_URL: openai.url,
      },
    });
    const off = await startBuiltProgram({
      env: { CHATBOT_STORE: "memory", CHATBOT_ALLOWED_HOSTS: "*", OPENAI_API_KEY: API_KEY, API_URL: openai.url },
    });
    openPrograms.push(listed, off);
    const browser = (host: string) => ({ host, origin: `http://${host}` });
    expect((await newSession(listed.grpcUrl, browser("chatbot.example.com"))).status).toBe(200);
    expect((await newSession(listed.grpcUrl, browser("evil.test"))).status).toBe(403);
    expect((await newSession(off.grpcUrl, browser("evil.test"))).status).toBe(200);
    expect(off.logs.find((line) => line.msg === "listening")).toMatchObject({ hostGuard: "off", accessTokens: 0 });
  });
});

describe("start failures", () => {
  it.each([
    [
      "a missing tokens file",
      { CHATBOT_AUTH_TOKENS_FILE: "/nonexistent/chatbot-tokens" },
      /^chatgptchatbot: CHATBOT_AUTH_TOKENS_FILE: cannot read "\/nonexistent\/chatbot-tokens": ENOENT \(see --help\)\n$/,
    ],
    [
      "a short token",
      { CHATBOT_AUTH_TOKENS: `${TOKEN},short` },
      /^chatgptchatbot: CHATBOT_AUTH_TOKENS: token 2 is shorter than 16 characters \(see --help\)\n$/,
    ],
    [
      "an unknown log format",
      { LOG_FORMAT: "xml" },
      /^chatgptchatbot: LOG_FORMAT: expected json or pretty, got "xml" \(see --help\)\n$/,
    ],
  ])("stops with exit code 2 and one line for %s, quoting no token", async (_name, env, message) => {
    const { code, stdout, stderr } = await runToExit(env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
    expect(stderr).not.toContain(TOKEN);
  });

  it("stops for a tokens file that is a directory", async () => {
    const { code, stderr } = await runToExit({ CHATBOT_AUTH_TOKENS_FILE: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^chatgptchatbot: CHATBOT_AUTH_TOKENS_FILE: cannot read ".*": EISDIR \(see --help\)\n$/);
  });
});

describe("log formats", { timeout: 30_000 }, () => {
  /** Starts the built program with `env`, waits for stdout to match `ready`, stops it; returns all of stdout's lines. */
  async function linesOf(env: Record<string, string>, ready: RegExp): Promise<string[]> {
    const child = spawn(process.execPath, [MAIN, "--grpc", "127.0.0.1:0"], {
      env: { PATH: process.env.PATH ?? "", CHATBOT_SWEEP_INTERVAL: "0", CHATBOT_STORE: "memory", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${String(ready)} in: ${stdout}`)), 15_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        if (ready.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    return stdout.split("\n").filter((line) => line !== "");
  }

  it("writes human-readable lines with LOG_FORMAT=pretty, keys masked and tokens absent", async () => {
    const lines = await linesOf(
      { LOG_FORMAT: "pretty", OPENAI_API_KEY: API_KEY, CHATBOT_AUTH_TOKENS: TOKEN },
      /listening/,
    );
    expect(lines.some((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chatgptchatbot\): listening$/.test(line))).toBe(
      true,
    );
    expect(lines.some((line) => /^ {4}accessTokens: 1$/.test(line))).toBe(true);
    expect(lines.some((line) => /INFO \(chatgptchatbot\): stopped$/.test(line))).toBe(true);
    for (const line of lines) expect(line.startsWith("{"), line).toBe(false); // no JSON object lines
    const text = lines.join("\n");
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("\u001b["); // not a terminal: no colours
  });

  it("writes JSON lines when stdout is not a terminal, and with LOG_FORMAT=json", async () => {
    const envs: Record<string, string>[] = [{}, { LOG_FORMAT: "json" }];
    for (const env of envs) {
      const lines = await linesOf(env, /"msg":"listening"/);
      const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed.map((line) => line.msg)).toEqual(expect.arrayContaining(["listening", "stopped"]));
    }
  });
});
