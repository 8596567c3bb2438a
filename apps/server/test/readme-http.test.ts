/**
 * The README's HTTP API example, run as written: every `$ curl ...` line of
 * the section between `<!-- section:http -->` markers goes to the program
 * serving the HTTP API alone (`--http`, a real socket) in front of the fake
 * upstreams, and its output must be
 * the lines the README shows under it. With curl installed the commands run
 * through curl itself; without it, they are replayed with fetch.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { deferred } from "@chatgptchatbot/testkit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli.js";
import { runServer } from "../src/run.js";

const README = new URL("../../../README.md", import.meta.url);
const REPLY = "你好！有什么我可以帮助你的吗？";

interface Step {
  readonly command: string;
  readonly output: string;
}

/** The `$ command` / output pairs of the section's console block. */
function readmeSteps(): Step[] {
  const text = readFileSync(README, "utf8");
  const section = /<!-- section:http -->([\s\S]*?)<!-- \/section:http -->/.exec(text)?.[1];
  if (section === undefined) throw new Error("README.md has no http section");
  const block = /```console\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("the http section has no console block");
  const steps: { command: string; output: string[] }[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
    else if (line !== "" || steps.at(-1)?.output.length) steps.at(-1)?.output.push(line);
  }
  return steps.map((s) => ({ command: s.command, output: s.output.join("\n").trimEnd() }));
}

/** Splits a shell command line into words (plain words, '…' and "…" quoting). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2]?.replace(/\\(.)/g, "$1") ?? match[3]!);
  return words;
}

/** Does what `curl [-N] [-X METHOD] [-H 'Name: value'] URL [-d DATA]` does, with fetch. */
async function curlWithFetch(args: string[]): Promise<string> {
  let method: string | undefined;
  let data: string | undefined;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-X") method = args[++i];
    else if (arg === "-d") data = args[++i];
    else if (arg === "-H") {
      const [name, ...value] = args[++i]!.split(":");
      headers[name!.trim().toLowerCase()] = value.join(":").trim();
    } else if (arg === "-N")
      continue; // no output buffering: fetch reads the whole answer anyway
    else if (arg.startsWith("-")) throw new Error(`the fetch stand-in for curl does not know ${arg}`);
    else url = arg;
  }
  if (url === undefined) throw new Error("curl without a URL");
  if (data !== undefined) headers["content-type"] ??= "application/x-www-form-urlencoded";
  const res = await fetch(url.includes("://") ? url : `http://${url}`, {
    method: method ?? (data === undefined ? "GET" : "POST"),
    headers,
    ...(data === undefined ? {} : { body: data }),
  });
  return res.text();
}

async function hasCurl(): Promise<boolean> {
  try {
    await promisify(execFile)("curl", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

describe("README: the legacy HTTP API", () => {
  let openai: FakeOpenAI;
  let web: FakeChatGPTWeb;
  let port: string;
  const stop = deferred<string>();
  let exit: Promise<number>;

  beforeAll(async () => {
    openai = await startFakeOpenAI({ reply: () => REPLY });
    web = await startFakeChatGPTWeb({ reply: () => REPLY });
    const listening = deferred<string>();
    exit = runServer({
      argv: ["--http", "127.0.0.1:0"],
      // No API-key cooldown: the README's two asks with one key come one right after the other here.
      env: {
        API_URL: openai.url,
        CHATGPT_BASE_URL: web.url,
        LOG_LEVEL: "silent",
        CHATBOT_SWEEP_INTERVAL: "0",
        CHATBOT_STORE: "memory",
        CHATGPT_V3_COOLDOWN: "0",
      },
      shutdown: stop.promise,
      onListening: (urls) => listening.resolve(urls.http!),
    });
    port = new URL(await listening.promise).port;
  });

  afterAll(async () => {
    stop.resolve("test over");
    await exit;
    await Promise.all([openai?.close(), web?.close()]);
  });

  it("runs every curl call of the README and gets the output it shows", async () => {
    const steps = readmeSteps();
    expect(steps.map((s) => shellWords(s.command).slice(0, 3).join(" "))).toEqual([
      "curl -X POST",
      "curl -X POST",
      "curl -X POST",
      "curl -X POST",
      "curl -N -X",
      "curl localhost:9006/healthz",
    ]);
    const curl = await hasCurl();
    for (const step of steps) {
      const [program, ...args] = shellWords(step.command.replaceAll("localhost:9006", `127.0.0.1:${port}`));
      expect(program).toBe("curl");
      const output = curl
        ? (await promisify(execFile)("curl", ["--silent", "--show-error", ...args])).stdout
        : await curlWithFetch(args);
      // An event stream ends with a blank line, which the README block cannot show after its last event.
      expect({ command: step.command, output: output.trimEnd() }).toEqual({
        command: step.command,
        output: step.output,
      });
    }

    // The access token went to the ChatGPT-web proxy, the API key to the OpenAI-compatible API.
    const token = /"access_token": "([^"]+)"/.exec(steps[0]!.command)?.[1];
    const key = /"api_key": "([^"]+)"/.exec(steps[2]!.command)?.[1];
    expect(web.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`]);
    expect(openai.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${key}`, `Bearer ${key}`]);
    // The streamed ask was answered from the upstream's stream as a plain one is, and its turn stored.
    const sent = (openai.requests[1]?.body.messages ?? []) as { role: string; content: unknown }[];
    const turns = sent.filter((m) => m.role !== "system");
    expect(turns.map((m) => m.content)).toEqual(["你好", REPLY, "再说一遍"]);
  });

  it("starts the HTTP API alone with the command the README shows", () => {
    const text = readFileSync(README, "utf8");
    const section = /<!-- section:http -->([\s\S]*?)<!-- \/section:http -->/.exec(text)?.[1] ?? "";
    const command = /```sh\n(.*)\n```/.exec(section)?.[1];
    expect(command).toMatch(/^pnpm start /);
    const args = parseCliArgs(shellWords(command!).slice(2));
    expect(args).toEqual({ grpc: undefined, http: { host: "localhost", port: 9006 }, debug: false, help: false });
  });
});
