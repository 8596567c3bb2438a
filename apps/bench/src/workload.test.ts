import { DEFAULT_OPENAI_MODEL } from "@chatgptchatbot/chatgpt-client";
import { loadTokenCounter } from "@chatgptchatbot/core";
import { createBackendsFromConfig, createPoolFromConfig, readConfig } from "@chatgptchatbot/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FastUpstream, startFastUpstream, WORKLOAD_REPLY } from "./fast-upstream.js";
import { type ReferenceServer, startReferenceServer } from "./reference-server.js";
import { historyTurnsOf, PROMPT } from "./scenario.js";
import { openTarget } from "./targets.js";
import { WORKLOAD_VARIANTS, workloadSeedTurns, workloadSessionConfig } from "./workload.js";

let upstream: FastUpstream;
let seedTurns: number;

beforeAll(async () => {
  upstream = await startFastUpstream({ reply: WORKLOAD_REPLY });
  seedTurns = workloadSeedTurns({
    prompt: PROMPT,
    reply: WORKLOAD_REPLY,
    count: await loadTokenCounter(DEFAULT_OPENAI_MODEL),
  });
});
afterAll(() => upstream.close());

/** The last request the upstream saw: its size and turns of history. */
const lastRequest = () => {
  const body = upstream.lastChatBody!.toString("utf8");
  return { bytes: Buffer.byteLength(body), turns: historyTurnsOf(body) };
};

/**
 * The history was full before the seed turns ran out (turns were dropped), stays full with one more turn, and the
 * request bodies are ~12 KB as the workload says.
 */
function expectFullHistory(seeded: ReturnType<typeof lastRequest>, next: ReturnType<typeof lastRequest>): void {
  expect(seeded.turns).toBeLessThan(seedTurns);
  expect(next.turns).toBe(seeded.turns);
  expect(seeded.bytes).toBeGreaterThanOrEqual(12_000);
  expect(seeded.bytes).toBeLessThan(20_000);
}

const sessionConfig = () => workloadSessionConfig({ upstreamOrigin: upstream.origin, variant: WORKLOAD_VARIANTS[0]! });

describe("the workload's history", () => {
  it("reaches the reference's 3000-token cap (~12 KB request bodies) within the seed turns, through the load client", async () => {
    const reference: ReferenceServer = await startReferenceServer({
      defaultSystemPrompt: "You are a friendly virtual streamer.",
      defaultModel: DEFAULT_OPENAI_MODEL,
    });
    try {
      const target = await openTarget(
        {
          kind: "grpc",
          address: reference.address,
          sessionConfig: sessionConfig(),
          prompt: PROMPT,
          sessions: 2,
          seedTurns,
        },
        { concurrency: 3 },
      );
      const seeded = lastRequest();
      // Worker 2 shares session 0 with worker 0: every session is full, so one more turn drops one.
      await target.call(2);
      const next = lastRequest();
      await target.close();
      expectFullHistory(seeded, next);
    } finally {
      await reference.close();
    }
  });

  it("reaches the server's default 3000-token budget within the seed turns (the real pool and API-key backend)", async () => {
    const config = readConfig({ CHATGPT_V3_COOLDOWN: "0", CHATBOT_STORE: "memory" });
    const backends = createBackendsFromConfig({ config });
    const pool = createPoolFromConfig({ config, backends: backends.resolve });
    try {
      const { sessionId } = await pool.create({ config: sessionConfig() });
      for (let turn = 0; turn < seedTurns; turn++) await pool.chat({ sessionId, prompt: PROMPT });
      const seeded = lastRequest();
      await pool.chat({ sessionId, prompt: PROMPT });
      const next = lastRequest();
      expectFullHistory(seeded, next);
    } finally {
      await pool.close();
      await backends.close();
    }
  });
});
