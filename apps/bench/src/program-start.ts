/**
 * How long the built `chatgptchatbot` program takes to start on a given
 * session store: spawned as users run it, timed from spawn to its
 * `listening` log line (wall), with the CPU its process used until then
 * (/proc). For the start-time figure of BENCHMARKS.md (issue 13: ≤ 1 s with
 * 10,000 stored sessions of 20 turns).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCpuMicros } from "./proc-stat.js";

export interface ProgramStart {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export async function measureProgramStart({
  program,
  env,
  timeoutMs = 30_000,
}: {
  /** The program's main.js. */
  program: string;
  /** Its store (CHATBOT_STORE, CHATBOT_STORE_KEY) and anything else. */
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<ProgramStart> {
  const home = mkdtempSync(join(tmpdir(), "program-start-"));
  const started = performance.now();
  const child = spawn(process.execPath, [program, "--grpc", "127.0.0.1:0"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      XDG_STATE_HOME: home,
      CHATBOT_SWEEP_INTERVAL: "0",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    return await new Promise<ProgramStart>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the program did not start in time")), timeoutMs);
      let buffer = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        if (!buffer.includes('"msg":"listening"')) return;
        const wallMs = performance.now() - started;
        const cpuMs = readCpuMicros(child.pid!) / 1000;
        clearTimeout(timer);
        resolve({ wallMs, cpuMs });
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the program exited with ${code}: ${stderr}`));
      });
    });
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    rmSync(home, { recursive: true, force: true });
  }
}
