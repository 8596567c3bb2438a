import { Writable } from "node:stream";
import { maskSecret } from "@chatgptchatbot/core";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { deferred } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runServer } from "../src/run.js";

const SERVER_KEY = "sk-test-server-default-key-0001";

function sink(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString("utf8");
      callback();
    },
  });
  return { stream, text: () => text };
}

let upstream: FakeOpenAI;
beforeEach(async () => {
  upstream = await startFakeOpenAI();
});
afterEach(async () => {
  await upstream.close();
});

/** Runs the program with the HTTP API alone (`--http` without `--grpc`) until the test says stop. */
function run(argv: string[], env: Record<string, string>) {
  const log = sink();
  const stdout = sink();
  const stderr = sink();
  const stop = deferred<string>();
  const listening = deferred<{ url: string; port: number }>();
  const exit = runServer({
    argv,
    env: { CHATBOT_STORE: "memory", ...env },
    shutdown: stop.promise,
    stdout: stdout.stream,
    stderr: stderr.stream,
    logDestination: log.stream,
    onListening: (urls) => {
      expect(urls.grpc).toBeUndefined(); // --http alone: only the HTTP API
      listening.resolve({ url: urls.http!, port: Number(new URL(urls.http!).port) });
    },
  });
  return { exit, stop: stop.resolve, listening: listening.promise, log, stdout, stderr };
}

describe("chatgptchatbot --http host:port (the HTTP API alone)", () => {
  it("serves the environment's default credential, then stops on shutdown with exit code 0", async () => {
    const server = run(["--http", "127.0.0.1:0"], {
      OPENAI_API_KEYS: SERVER_KEY,
      API_URL: upstream.url,
      CHATBOT_SWEEP_INTERVAL: "0",
    });
    const { url } = await server.listening;
    const res = await fetch(`${url}/ask`, { method: "POST", body: JSON.stringify({ prompt: "hi" }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("echo: hi");
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${SERVER_KEY}`);

    server.stop("SIGTERM");
    expect(await server.exit).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const log = server.log.text();
    expect(log).toContain('"msg":"stopped"');
    expect(log).toContain(JSON.stringify(maskSecret(SERVER_KEY)));
    expect(log).not.toContain(SERVER_KEY);
  });

  it("refuses a version-1 /renew with 400 when CHATGPT_BASE_URL is unset: a token goes only to a base URL the operator named", async () => {
    const server = run(["--http", "127.0.0.1:0"], { API_URL: upstream.url, CHATBOT_SWEEP_INTERVAL: "0" });
    const { url } = await server.listening;
    const res = await fetch(`${url}/renew`, {
      method: "POST",
      body: JSON.stringify({ access_token: "eyJ-test-token-no-base-0001" }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/needs a base_url.*the server has no CHATGPT_BASE_URL/);
    const key = await fetch(`${url}/renew`, {
      method: "POST",
      body: JSON.stringify({ api_key: "sk-test-still-fine-0002", version: 3 }),
    });
    expect(key.status).toBe(200);
    server.stop("test over");
    expect(await server.exit).toBe(0);
  });

  it("prints --help with exit code 0 without serving", async () => {
    const server = run(["--help"], {});
    expect(await server.exit).toBe(0);
    expect(server.stdout.text()).toContain("--http host:port");
  });

  it.each([
    [["--bogus"], {}, /^chatgptchatbot: arguments: /],
    [["--http", "host:port"], {}, /^chatgptchatbot: --http: /],
    [["--http", "127.0.0.1:0"], { LOG_LEVEL: "loud" }, /^chatgptchatbot: LOG_LEVEL: /],
    [
      ["--http", "127.0.0.1:0"],
      { HTTPS_PROXY: "::bad" },
      /^chatgptchatbot: HTTPS_PROXY: expected a proxy URL like http:\/\/host:port \(see --help\)\n$/,
    ],
    [
      ["--http", "127.0.0.1:0"],
      { HTTP_PROXY: "socks5://127.0.0.1:1080" },
      /^chatgptchatbot: HTTP_PROXY: expected an http:\/\/ or https:\/\/ proxy URL/,
    ],
  ])("exits 2 for a bad flag or variable (%j %j) with one line on stderr", async (argv, env, message) => {
    const server = run(argv, env);
    expect(await server.exit).toBe(2);
    expect(server.stderr.text()).toMatch(message);
    expect(server.stderr.text().split("\n")).toHaveLength(2); // one line, no stack
  });

  it("exits 1 when the port is taken", async () => {
    const first = run(["--http", "127.0.0.1:0"], { CHATBOT_SWEEP_INTERVAL: "0" });
    const { port } = await first.listening;
    const second = run(["--http", `127.0.0.1:${port}`], { CHATBOT_SWEEP_INTERVAL: "0" });
    expect(await second.exit).toBe(1);
    expect(second.log.text()).toContain("EADDRINUSE");
    expect(second.stderr.text()).toMatch(
      new RegExp(`^chatgptchatbot: cannot listen: .*EADDRINUSE.*127\\.0\\.0\\.1:${port}\\n$`),
    );
    first.stop("test over");
    expect(await first.exit).toBe(0);
  });
});
