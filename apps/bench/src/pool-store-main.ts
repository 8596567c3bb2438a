/**
 * `node dist/pool-store-main.js [--rounds 7] [--chats 2000] [--sessions 16]`:
 * CPU per chat through one SessionPool (a backend that answers at once, no
 * transport) with the in-memory store and with the SQLite store and its
 * coordinator, in alternating rounds; medians. What the store adds to a chat
 * without the transport's CPU around it, which on a loaded machine hides a
 * difference of tens of µs (see BENCHMARKS.md, issue 13).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Backend,
  type Coordinator,
  MemoryCoordinator,
  MemorySessionStore,
  SessionPool,
  type SessionStore,
} from "@chatgptchatbot/core";
import { openSqliteSessionStore, SqliteCoordinator } from "@chatgptchatbot/store-sqlite";
import { parseCli } from "./cli-args.js";

const { values } = parseCli(
  "node dist/pool-store-main.js [options]: CPU per chat through one SessionPool, memory store against SQLite",
  {
    options: {
      rounds: { type: "string", default: "7" },
      chats: { type: "string", default: "2000" },
      sessions: { type: "string", default: "16" },
    },
  },
);
const rounds = Number(values.rounds);
const chats = Number(values.chats);
const sessions = Number(values.sessions);

const PROMPT = "主播今天玩什么游戏？can we name the cat after the chat?";
const REPLY = "Ha, good question! Today we are playing a cozy farming game, and yes, let us name the cat together.";
const backend: Backend = {
  initialPrompt: "system",
  async *ask() {
    yield { type: "text", text: REPLY };
    yield { type: "finish" };
  },
};

const folder = mkdtempSync(join(tmpdir(), "pool-store-"));
const sqlite = openSqliteSessionStore({ file: join(folder, "sessions.db") });
const kinds: Record<"memory" | "sqlite", { store: SessionStore; coordinator: Coordinator }> = {
  memory: { store: new MemorySessionStore(), coordinator: new MemoryCoordinator() },
  sqlite: { store: sqlite, coordinator: new SqliteCoordinator({ store: sqlite }) },
};

try {
  const runs = Object.fromEntries(
    await Promise.all(
      Object.entries(kinds).map(async ([kind, { store, coordinator }]) => {
        // The headline scenario's budget: the history is trimmed every turn once full, as in the server bench.
        const pool = new SessionPool({
          backends: () => backend,
          store,
          coordinator,
          maxSessions: sessions,
          sweepIntervalMs: 0,
          cooldown: { apiKeyMs: 0 },
          configDefaults: { apiKeys: ["sk-test-pool-store-0001"], maxTokens: 1174 },
        });
        const ids: string[] = [];
        for (let i = 0; i < sessions; i++) ids.push((await pool.create({ config: "" })).sessionId);
        return [kind, { pool, ids }] as const;
      }),
    ),
  );
  const cpuPerChat = async (kind: string, n: number): Promise<number> => {
    const { pool, ids } = runs[kind]!;
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) await pool.chat({ sessionId: ids[i % ids.length]!, prompt: `${PROMPT} ${i}` });
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  for (const kind of Object.keys(kinds)) await cpuPerChat(kind, chats); // warm up, fill the histories to the budget
  const samples: Record<string, number[]> = { memory: [], sqlite: [] };
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? ["sqlite", "memory"] : ["memory", "sqlite"])
      samples[kind]!.push(await cpuPerChat(kind, chats));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const memory = median(samples.memory!);
  const sqliteCpu = median(samples.sqlite!);
  console.log(
    `CPU per chat through SessionPool, ${sessions} sessions, medians of ${rounds} alternating rounds of ${chats} chats:`,
  );
  console.log(
    `memory ${memory.toFixed(0)} µs, SQLite ${sqliteCpu.toFixed(0)} µs: +${(sqliteCpu - memory).toFixed(0)} µs per chat`,
  );
  console.log(
    `rounds: ${JSON.stringify(samples, (_key, value: unknown) => (typeof value === "number" ? Math.round(value) : value))}`,
  );
  for (const { pool } of Object.values(runs)) await pool.close();
} finally {
  sqlite.close();
  rmSync(folder, { recursive: true, force: true });
}
