/**
 * Memory per idle session (run in a process of its own, with --expose-gc). Builds a
 * core SessionPool with an in-process backend, fills `--sessions N` sessions
 * with `--turns T` turns each, and reports RSS and heap growth per session,
 * and that growth beyond the text the sessions hold.
 *
 * Every text is a distinct flat string, as it would be when decoded off the
 * wire (not a rope sharing a constant), and ASCII, so its bytes are its length.
 */
import { type Backend, SessionPool } from "@chatgptchatbot/core";

export interface MemoryResult {
  readonly sessions: number;
  readonly turns: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly heapBeforeBytes: number;
  readonly heapAfterBytes: number;
  /** Bytes of text each session holds: its system prompt, prompts and replies. */
  readonly textBytesPerSession: number;
  readonly rssPerSessionBytes: number;
  readonly heapPerSessionBytes: number;
  /** Growth of the heap V8 has committed (used + free pages it keeps), per session. */
  readonly heapCommittedPerSessionBytes: number;
  /** Heap growth per session beyond its text. */
  readonly heapOverheadPerSessionBytes: number;
  /** RSS growth per session beyond its text. */
  readonly rssOverheadPerSessionBytes: number;
  readonly fillMs: number;
}

/** A distinct flat string (decoded from bytes, as off the wire). */
const flat = (text: string): string => Buffer.from(text, "latin1").toString("latin1");

const PERSONA =
  "You are Mika, a cheerful VTuber who streams cozy games. Answer live-stream comments in one or two short sentences.";
const PROMPT = "what game are we playing today, and can we name the cat?";
const REPLY = "Ha, good question! Today we are playing a cozy farming game, and yes, let us name the cat together.";

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run with --expose-gc");
  collect();
  collect();
};

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function measureSessionMemory({
  sessions,
  turns,
}: {
  sessions: number;
  turns: number;
}): Promise<MemoryResult> {
  const backend: Backend = {
    initialPrompt: "system",
    async *ask({ prompt }) {
      yield { type: "text", text: flat(`${prompt.slice(0, 12)} ${REPLY}`) };
      yield { type: "finish" };
    },
  };
  const pool = new SessionPool({
    backends: () => backend,
    maxSessions: sessions + 1,
    renewIntervalMs: 0,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  const config = (i: number) => flat(`{"version":3,"api_key":"sk-test-bench-memory-${String(i).padStart(8, "0")}"}`);

  // Warm up everything loaded once (tokenizer, code paths), so the baseline holds it.
  const warm = await pool.create({ config: config(-1), initialPrompt: flat(PERSONA) });
  await pool.chat({ sessionId: warm.sessionId, prompt: flat(PROMPT) });
  await pool.delete(warm.sessionId);
  await settle();
  gc();
  const { rss: rssBefore, heapUsed: heapBefore, heapTotal: committedBefore } = process.memoryUsage();

  let textBytes = 0;
  const started = performance.now();
  const batch = 100;
  for (let first = 0; first < sessions; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, sessions - first) }, async (_, k) => {
        const i = first + k;
        const persona = flat(`${PERSONA} #${i}`);
        textBytes += persona.length;
        const { sessionId } = await pool.create({ config: config(i), initialPrompt: persona });
        for (let t = 0; t < turns; t++) {
          const prompt = flat(`${i}.${t} ${PROMPT}`);
          const reply = await pool.chat({ sessionId, prompt });
          textBytes += prompt.length + reply.length;
        }
      }),
    );
  }
  const fillMs = performance.now() - started;
  const info = await pool.list();
  if (info.length !== sessions || info.some((s) => s.historyLength !== 2 * turns)) {
    throw new Error(`expected ${sessions} sessions with ${2 * turns} messages each`);
  }
  await settle();
  gc();
  const { rss: rssAfter, heapUsed: heapAfter, heapTotal: committedAfter } = process.memoryUsage();
  await pool.close();
  const textPerSession = textBytes / sessions;
  return {
    sessions,
    turns,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    heapBeforeBytes: heapBefore,
    heapAfterBytes: heapAfter,
    textBytesPerSession: textPerSession,
    rssPerSessionBytes: (rssAfter - rssBefore) / sessions,
    heapPerSessionBytes: (heapAfter - heapBefore) / sessions,
    heapCommittedPerSessionBytes: (committedAfter - committedBefore) / sessions,
    heapOverheadPerSessionBytes: (heapAfter - heapBefore) / sessions - textPerSession,
    rssOverheadPerSessionBytes: (rssAfter - rssBefore) / sessions - textPerSession,
    fillMs,
  };
}
