import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempFolder } from "../test/fixtures.js";
import { openSqliteSessionStore } from "./sqlite-session-store.js";

const writer = fileURLToPath(new URL("../test/crash-writer.mjs", import.meta.url));
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const KEY = Buffer.alloc(32, 5).toString("base64");
const SESSIONS = 4;
const KILLS = 12;

const folder = tempFolder();
afterAll(() => folder.cleanup());

/**
 * Runs the writer until it has stored at least one turn, then SIGKILLs it a
 * random time later. @returns the last acknowledged turn per session.
 */
async function chatUntilKilled(file: string, maxDelayMs: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, [writer, file, String(SESSIONS)], { stdio: ["ignore", "pipe", "pipe"] });
  const acked = new Map<string, number>();
  let stderr = "";
  let buffered = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // "close", not "exit": only then has every ack the child wrote been read from the pipe.
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let killing = false;
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const match = /^ack (\S+) (\d+)$/.exec(line);
        if (match !== null) acked.set(match[1]!, Number(match[2]));
      }
      if (!killing && acked.size > 0) {
        killing = true;
        setTimeout(() => {
          child.kill("SIGKILL");
          resolve();
        }, Math.random() * maxDelayMs);
      }
    });
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`the writer exited by itself (${code}): ${stderr}`));
    });
  });
  await exited;
  // Acks the child wrote before it died were still in the pipe: they count too.
  for (const line of buffered.split("\n")) {
    const match = /^ack (\S+) (\d+)$/.exec(line);
    if (match !== null) acked.set(match[1]!, Number(match[2]));
  }
  return acked;
}

describe("crash safety", () => {
  it(`loses at most each session's turn in flight (turns committed in groups), and the file always opens, across ${KILLS} SIGKILLs`, async () => {
    expect(existsSync(built), "build the package first (pnpm build): the writer runs the built store").toBe(true);
    const file = join(folder.path, "crash.db");
    const acknowledged = new Map<string, number>();
    for (let kill = 0; kill < KILLS; kill++) {
      const acked = await chatUntilKilled(file, 300);
      for (const [id, turn] of acked) acknowledged.set(id, turn);

      // Reopen as the program would at start: integrity check, key check, every record read.
      const store = openSqliteSessionStore({ file, key: KEY });
      const records = await store.list();
      expect(records).toHaveLength(SESSIONS);
      for (const record of records) {
        const stored = Number(/^answer (\d+)/.exec(record.history.at(-1)?.content ?? "answer 0")![1]);
        const ack = acknowledged.get(record.id) ?? 0;
        // Every acknowledged turn is there; at most the one in flight beyond it.
        expect(stored, record.id).toBeGreaterThanOrEqual(ack);
        expect(stored, record.id).toBeLessThanOrEqual(ack + 1);
        expect(record.conversation).toEqual(stored === 0 ? null : { turn: stored });
        expect(record.config.credentials).toEqual([`sk-test-${record.id}`]);
        // Turns are whole: a question is always followed by its answer.
        for (const [i, entry] of record.history.entries()) expect(entry.role).toBe(i % 2 === 0 ? "user" : "assistant");
        acknowledged.set(record.id, stored);
      }
      store.close();
    }
    expect([...acknowledged.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(KILLS);
  }, 120_000);
});
