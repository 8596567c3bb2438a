/**
 * Where a chat's CPU goes: each layer of the server on its own, in one
 * process, in a closed loop at concurrency 16, measured as CPU µs per
 * operation (`process.cpuUsage`, this process only; the fast upstream runs in
 * another). The full server's CPU per chat is roughly transport + pool +
 * backend; what the transport costs is the rest.
 */

import { setImmediate as yieldToLoop } from "node:timers/promises";
import { createBackends } from "@chatgptchatbot/chatgpt-client";
import {
  type AskRequest,
  type Backend,
  collectReply,
  type HistoryEntry,
  loadTokenCounter,
  MESSAGE_OVERHEAD_TOKENS,
  parseSessionConfig,
  SessionPool,
} from "@chatgptchatbot/core";
import { Pool } from "undici";
import { DEFAULT_REPLY } from "./fast-upstream.js";
import { ACCESS_TOKEN, API_KEY, HISTORY_TURNS, PROMPT } from "./scenario.js";

export interface ComponentResult {
  readonly name: string;
  readonly operations: number;
  readonly cpuMicrosPerOperation: number;
  readonly wallMicrosPerOperation: number;
}

/** Runs `op` in a closed loop at `concurrency` for a warmup, then measures CPU per op over `durationMs`. */
export async function measureComponent(
  name: string,
  op: (worker: number) => Promise<unknown> | unknown,
  {
    concurrency = 16,
    warmupMs = 300,
    durationMs = 1000,
  }: { concurrency?: number; warmupMs?: number; durationMs?: number } = {},
): Promise<ComponentResult> {
  let measuring = false;
  let stop = false;
  let operations = 0;
  const worker = async (index: number) => {
    for (let n = 1; !stop; n++) {
      await op(index);
      if (measuring) operations++;
      // An op that never waits on I/O would starve the timers that end the phases.
      if (n % 32 === 0) await yieldToLoop();
    }
  };
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const used = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  stop = true;
  await Promise.all(workers);
  return {
    name,
    operations,
    cpuMicrosPerOperation: (used.user + used.system) / operations,
    wallMicrosPerOperation: (wall * 1000) / operations,
  };
}

/** A steady-state history of `turns` turns, as the pool stores it. */
async function history(turns: number): Promise<HistoryEntry[]> {
  const count = await loadTokenCounter(undefined);
  const entries: HistoryEntry[] = [];
  for (let i = 0; i < turns; i++) {
    entries.push(
      { role: "user", content: PROMPT, tokens: count(PROMPT) + MESSAGE_OVERHEAD_TOKENS },
      { role: "assistant", content: DEFAULT_REPLY, tokens: count(DEFAULT_REPLY) + MESSAGE_OVERHEAD_TOKENS },
    );
  }
  return entries;
}

export async function measureComponents({
  upstreamOrigin,
  quick,
}: {
  upstreamOrigin: string;
  quick: boolean;
}): Promise<ComponentResult[]> {
  const timing = quick ? { warmupMs: 200, durationMs: 500 } : { warmupMs: 500, durationMs: 1500 };
  const results: ComponentResult[] = [];
  const turns = await history(HISTORY_TURNS);
  const count = await loadTokenCounter(undefined);

  results.push(
    await measureComponent(
      "core: token counts of one turn (prompt + reply)",
      () => count(PROMPT) + count(DEFAULT_REPLY),
      timing,
    ),
  );

  // The pool with a backend that answers at once: core's own cost per chat.
  const instant: Backend = {
    initialPrompt: "system",
    async *ask() {
      yield { type: "text", text: DEFAULT_REPLY };
      yield { type: "finish" };
    },
  };
  const pool = new SessionPool({
    backends: () => instant,
    maxSessions: 100,
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  const sessions: string[] = [];
  for (let i = 0; i < 16; i++) {
    const { sessionId } = await pool.create({
      config: JSON.stringify({ version: 3, api_key: API_KEY, max_tokens: 900 }),
    });
    sessions.push(sessionId);
  }
  results.push(
    await measureComponent(
      "core: SessionPool.chat, backend answering in-process",
      (w) => pool.chat({ sessionId: sessions[w]!, prompt: PROMPT }),
      timing,
    ),
  );
  await pool.close();

  const backends = createBackends({ apiUrl: `${upstreamOrigin}/v1`, chatgptBaseUrl: `${upstreamOrigin}/backend-api` });
  try {
    const config = parseSessionConfig(JSON.stringify({ version: 3, api_key: API_KEY }));
    const ask = (backend: Backend, request: Partial<AskRequest>) =>
      collectReply(
        backend.ask({
          prompt: PROMPT,
          systemPrompt: "",
          history: turns,
          conversation: null,
          credential: API_KEY,
          config,
          signal: new AbortController().signal,
          ...request,
        }),
      );
    results.push(
      await measureComponent(
        "backend: API key (openai SDK, stream) over undici, 20-turn history",
        () => ask(backends.openai, {}),
        timing,
      ),
    );
    const webConfig = parseSessionConfig(JSON.stringify({ version: 1, access_token: ACCESS_TOKEN }), {});
    results.push(
      await measureComponent(
        "backend: access token (ChatGPT web, event stream) over undici",
        () => ask(backends.chatgptWeb, { config: webConfig, credential: ACCESS_TOKEN, history: [] }),
        timing,
      ),
    );
  } finally {
    await backends.close();
  }

  // The floor of any backend: one undici request of the same body, its JSON answer parsed.
  const body = JSON.stringify({
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are a VTuber." },
      ...turns.map(({ role, content }) => ({ role, content })),
      { role: "user", content: PROMPT },
    ],
  });
  const undici = new Pool(upstreamOrigin, { connections: 16 });
  results.push(
    await measureComponent(
      "floor: undici Pool.request of the same body, JSON answer parsed",
      async () => {
        const res = await undici.request({
          path: "/v1/chat/completions",
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
          body,
        });
        return res.body.json();
      },
      timing,
    ),
  );
  await undici.close();
  return results;
}
