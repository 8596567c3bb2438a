/**
 * The SQLite session store's own costs, without a server around it: how long
 * a start takes to open a store of N sessions of T turns, the file's size per
 * session, and the CPU of one chat turn's store work (get, append a turn, set)
 * against the in-memory store. Run by `store-bench-main.ts`.
 */
import { type HistoryEntry, MemorySessionStore, type SessionRecord, type SessionStore } from "@chatgptchatbot/core";
import { openSqliteSessionStore, type SqliteSessionStore } from "@chatgptchatbot/store-sqlite";

const PERSONA =
  "You are Mika, a cheerful VTuber who streams cozy games. Answer live-stream comments in one or two short sentences.";
const PROMPT = "主播今天玩什么游戏？can we name the cat after the chat?";
const REPLY = "Ha, good question! Today we are playing a cozy farming game, and yes, let us name the cat together.";

export function benchRecord(i: number, turns: number, now: number): SessionRecord {
  const history: HistoryEntry[] = [];
  for (let t = 0; t < turns; t++) {
    history.push({ role: "user", content: `${PROMPT} #${i}.${t}`, tokens: 24 });
    history.push({ role: "assistant", content: `${REPLY} (${t})`, tokens: 26 });
  }
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    config: {
      kind: "api-key",
      version: 3,
      credentials: [`sk-test-bench-store-${String(i).padStart(8, "0")}`],
      serverCredential: false,
      model: "gpt-4o-mini",
      baseUrl: undefined,
      temperature: undefined,
      maxTokens: 1174,
      filter: true,
    },
    initialPrompt: `${PERSONA} #${i}`,
    initialResponse: "",
    systemTokens: 30,
    history,
    conversation: null,
    createdAt: now,
    conversationStartedAt: now,
    lastActiveAt: now,
  };
}

/** Fills a store with `sessions` records of `turns` turns, one transaction per session. */
export async function fillStore(
  store: SessionStore,
  { sessions, turns }: { sessions: number; turns: number },
): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < sessions; i++) await store.create(benchRecord(i, turns, now));
}

/**
 * CPU per turn of what the pool asks of its store in one chat: get the record,
 * then one fenced write that drops the oldest turn (the budget is full) and
 * appends the new one. With `concurrency` above 1, that many chats run at once
 * (each on its own sessions, as the pool's turn lease keeps one chat per
 * session), so turns finish together, as under load: what the SQLite store's
 * group commit shares.
 */
export async function turnCpu(
  store: SessionStore,
  { sessions, turns, concurrency = 1 }: { sessions: number; turns: number; concurrency?: number },
): Promise<number> {
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= sessions)) {
    throw new RangeError("concurrency: a whole number from 1 to the number of sessions");
  }
  const ids = Array.from({ length: sessions }, (_, i) => benchRecord(i, 0, 0).id);
  let fence = Date.now() * 1000;
  const one = async (n: number, worker: number): Promise<void> => {
    // Worker w only touches sessions ≡ w (mod concurrency): never two chats of one session at once.
    const slots = Math.floor((sessions - worker - 1) / concurrency) + 1;
    const id = ids[worker + ((n * 7919) % slots) * concurrency]!;
    const record = await store.get(id);
    if (record === undefined) throw new Error(`session ${id} is missing`);
    const outcome = await store.appendTurn(id, ++fence, {
      drop: record.history.length >= 2 ? 2 : 0,
      append: [
        { role: "user", content: `${PROMPT} ${n}`, tokens: 24 },
        { role: "assistant", content: `${REPLY} ${n}`, tokens: 26 },
      ],
      conversation: null,
      lastActiveAt: Date.now(),
    });
    if (outcome !== "written") throw new Error(`a turn of ${id} was ${outcome}`);
  };
  const run = async (count: number): Promise<void> => {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let n = worker; n < count; n += concurrency) await one(Math.floor(n / concurrency), worker);
      }),
    );
  };
  await run(200); // warm up
  const before = process.cpuUsage();
  await run(turns);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / turns;
}

export function memoryStore(): MemorySessionStore {
  return new MemorySessionStore();
}

export function openBenchStore(file: string, key: string | undefined): SqliteSessionStore {
  return openSqliteSessionStore({ file, key });
}
