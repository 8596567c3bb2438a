/**
 * The built `chatgptchatbot` program as a real child process
 * (`dist/main.js --grpc 127.0.0.1:0 --http 127.0.0.1:0`), for suites that
 * must see what users see: the process's own event loop, its memory, its
 * stdout log lines. Needs `pnpm build` first (turbo's test task does it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stateFolder } from "./state-folder.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export interface BuiltProgram {
  readonly child: ChildProcess;
  readonly grpcUrl: string;
  readonly httpUrl: string;
  /** Every JSON log line written to stdout so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Every stdout line that was not JSON (should stay empty), and all of stderr. */
  readonly otherOutput: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends SIGTERM and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Resident and peak resident set size of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kB = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kB("VmRSS"), peakRss: kB("VmHWM") };
}

/**
 * The environment of a program in front of both fake upstreams: the server's default key and token, no cooldowns,
 * no retries, and a client's base_url allowed to name only the fakes (no generated URL can send traffic elsewhere).
 */
export function fakeUpstreamsEnv({
  openaiUrl,
  webUrl,
  serverKey,
  serverToken,
  maxSessions,
}: {
  openaiUrl: string;
  webUrl: string;
  serverKey: string;
  serverToken: string;
  maxSessions: number;
}): Record<string, string> {
  return {
    API_URL: openaiUrl,
    CHATGPT_BASE_URL: webUrl,
    OPENAI_API_KEYS: serverKey,
    CHATGPT_ACCESS_TOKENS: serverToken,
    CHATGPT_V3_COOLDOWN: "0",
    CHATGPT_COOLDOWN: "0",
    CHATBOT_MAX_RETRIES: "0",
    CHATBOT_MAX_SESSIONS: String(maxSessions),
    CHATBOT_ALLOWED_UPSTREAM_HOSTS: [openaiUrl, webUrl].map((url) => new URL(url).host).join(","),
  };
}

export async function startBuiltProgram({
  env,
  startTimeoutMs = 15_000,
}: {
  /** Added to a minimal environment (PATH only; no sweep). */
  env: Record<string, string>;
  startTimeoutMs?: number;
}): Promise<BuiltProgram> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm build first`);
  // The default store (SQLite) in a temp folder of this run's own, never the real home.
  const state = stateFolder();
  // Run as users run the command: through its first line (`env -S … node`, with its V8 flags), `node` from PATH.
  const child = spawn(MAIN, ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "", CHATBOT_SWEEP_INTERVAL: "0", ...state.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const otherOutput: string[] = [];
  let buffer = "";
  let onListening!: (line: Record<string, unknown>) => void;
  const listening = new Promise<Record<string, unknown>>((resolve) => (onListening = resolve));
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim() === "") continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        otherOutput.push(line);
        continue;
      }
      logs.push(parsed);
      if (parsed.msg === "listening") onListening(parsed);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => otherOutput.push(chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => state.remove());
  let timer: NodeJS.Timeout | undefined;
  const line = await Promise.race([
    listening,
    exited.then((code) => Promise.reject(new Error(`the program exited with ${code}: ${otherOutput.join("")}`))),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the program did not log `listening` in time")), startTimeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    child,
    grpcUrl: String(line.grpc),
    httpUrl: String(line.http),
    logs,
    otherOutput,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}
