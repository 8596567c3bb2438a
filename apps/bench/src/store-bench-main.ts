/**
 * `node dist/store-bench-main.js [--sessions 10000] [--turns 20] [--rounds 3]`: the SQLite
 * session store alone (see store-bench.ts). Prints a Markdown table for BENCHMARKS.md.
 * `--open FILE --key KEY` is the child that measures one start, in a fresh process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCli } from "./cli-args.js";
import { measureProgramStart, type ProgramStart } from "./program-start.js";
import { benchRecord, fillStore, memoryStore, openBenchStore, turnCpu } from "./store-bench.js";

const { values } = parseCli(
  "node dist/store-bench-main.js [options]: the SQLite session store alone (--open FILE --key KEY: the child that times one start)",
  {
    options: {
      sessions: { type: "string", default: "10000" },
      turns: { type: "string", default: "20" },
      rounds: { type: "string", default: "3" },
      open: { type: "string" },
      key: { type: "string" },
      /** The built program, whose whole start is timed on each store. */
      program: { type: "string", default: fileURLToPath(new URL("../../server/dist/main.js", import.meta.url)) },
    },
  },
);

if (values.open !== undefined) {
  // One start, in a fresh process: load the module, open (integrity check, key check), count.
  // CPU time, not wall time: the machine is shared, and wall time counts the neighbours.
  const cpuMs = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const t0 = cpuMs();
  const { openSqliteSessionStore, SqliteCoordinator } = await import("@chatgptchatbot/store-sqlite");
  const t1 = cpuMs();
  const wall = performance.now();
  const store = openSqliteSessionStore({ file: values.open, key: values.key });
  new SqliteCoordinator({ store }); // what the program's start adds: stored cooldowns, the highest fence
  const count = await store.size();
  const t2 = cpuMs();
  const openWallMs = performance.now() - wall;
  await store.listActivity();
  const t3 = cpuMs();
  const all = await store.list();
  const t4 = cpuMs();
  store.close();
  console.log(
    JSON.stringify({
      importMs: t1 - t0,
      openMs: t2 - t1,
      openWallMs,
      count,
      listActivityMs: t3 - t2,
      listMs: t4 - t3,
      listed: all.length,
    }),
  );
  process.exit(0);
}

const sessions = Number(values.sessions);
/** Chats at once in the concurrent column: the issue 16 workload's. */
const CONCURRENCY = Math.min(16, sessions);
const turns = Number(values.turns);
const rounds = Number(values.rounds);
const key = Buffer.alloc(32, 42).toString("base64"); // a bench key, not a secret
const folder = mkdtempSync(join(tmpdir(), "store-bench-"));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Medians of `rounds` starts of the program on a store. */
async function programStarts(env: Record<string, string>): Promise<string> {
  const runs: ProgramStart[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await measureProgramStart({ program: values.program, env }));
  return `${median(runs.map((r) => r.wallMs)).toFixed(0)} ms (${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms CPU)`;
}

try {
  const rows: string[] = [];
  const programRows: string[] = [];
  programRows.push(`| memory (nothing stored) | ${await programStarts({ CHATBOT_STORE: "memory" })} |`);
  programRows.push(
    `| SQLite, empty file | ${await programStarts({ CHATBOT_STORE: `sqlite:${join(folder, "empty.db")}` })} |`,
  );
  for (const keyed of [false, true]) {
    const file = join(folder, keyed ? "keyed.db" : "plain.db");
    const fillStart = performance.now();
    const store = openBenchStore(file, keyed ? key : undefined);
    await fillStore(store, { sessions, turns });
    store.close();
    const fillMs = performance.now() - fillStart;
    const bytes = statSync(file).size;

    const starts = Array.from({ length: rounds }, () => {
      const args = [process.argv[1]!, "--open", file, ...(keyed ? ["--key", key] : [])];
      const child = spawnSync(process.execPath, args, { encoding: "utf8" });
      if (child.status !== 0) throw new Error(child.stderr);
      return JSON.parse(child.stdout) as {
        importMs: number;
        openMs: number;
        openWallMs: number;
        listActivityMs: number;
        listMs: number;
        count: number;
      };
    });
    if (starts.some((s) => s.count !== sessions)) throw new Error("a start did not see every session");
    const storeEnv = { CHATBOT_STORE: `sqlite:${file}`, ...(keyed ? { CHATBOT_STORE_KEY: key } : {}) };
    const label = `SQLite, ${sessions.toLocaleString("en")} sessions × ${turns} turns${keyed ? ", keyed" : ""}`;
    programRows.push(`| ${label} | ${await programStarts(storeEnv)} |`);

    // Cold: each session's first chat after a start (read from the file). Warm: every later chat (cached).
    const turnStore = openBenchStore(file, keyed ? key : undefined);
    const coldCpu = await turnCpu(turnStore, { sessions, turns: Math.min(5000, sessions / 2) });
    for (let i = 0; i < sessions; i++) await turnStore.get(benchRecord(i, 0, 0).id);
    const warmCpu = await turnCpu(turnStore, { sessions, turns: 5000 });
    // 16 chats at once, as the issue 16 workload runs them: turns that finish together share a commit.
    const concurrentCpu = await turnCpu(turnStore, { sessions, turns: 5000, concurrency: CONCURRENCY });
    turnStore.close();
    rows.push(
      `| SQLite, ${keyed ? "with CHATBOT_STORE_KEY" : "no key"} | ${median(starts.map((s) => s.openMs)).toFixed(0)} ms ` +
        `(${median(starts.map((s) => s.openWallMs)).toFixed(0)} ms wall) ` +
        `| ${median(starts.map((s) => s.listActivityMs)).toFixed(0)} ms | ${median(starts.map((s) => s.listMs)).toFixed(0)} ms ` +
        `| ${(bytes / sessions / 1024).toFixed(1)} KiB | ${coldCpu.toFixed(0)} µs | ${warmCpu.toFixed(0)} µs | ${concurrentCpu.toFixed(0)} µs | ${(fillMs / 1000).toFixed(1)} s |`,
    );
  }
  const memory = memoryStore();
  await fillStore(memory, { sessions, turns });
  const memoryCpu = await turnCpu(memory, { sessions, turns: 5000 });
  const memoryConcurrentCpu = await turnCpu(memory, { sessions, turns: 5000, concurrency: CONCURRENCY });
  rows.push(
    `| memory (baseline) | – | – | – | – | – | ${memoryCpu.toFixed(1)} µs | ${memoryConcurrentCpu.toFixed(1)} µs | – |`,
  );

  console.log(
    `${sessions.toLocaleString("en")} sessions of ${turns} turns; Node ${process.version}; medians of ${rounds} starts, each in a fresh process.\n`,
  );
  console.log(
    "| Store | Start: open + count (CPU) | listActivity() (CPU) | list(), a sweep's read (CPU) | File per session " +
      `| CPU per turn, first after start | CPU per turn, later | CPU per turn, later, ${CONCURRENCY} at once | Fill (wall) |`,
  );
  console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const row of rows) console.log(row);
  console.log(
    "\nThe whole program's start (`node apps/server/dist/main.js`, spawn to its `listening` line; medians):\n",
  );
  console.log("| Store | Start, wall (CPU) |");
  console.log("|---|--:|");
  for (const row of programRows) console.log(row);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
