/**
 * What every run of the harness shares: the prompt, the fake credentials, the
 * steady-state history, the server's environment, the targets, and running
 * one load in a worker process.
 */
import { DEFAULT_SYSTEM_PROMPT } from "@chatgptchatbot/chatgpt-client";
import { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from "@chatgptchatbot/core";
import { startChild } from "./child-process.js";
import { DEFAULT_REPLY } from "./fast-upstream.js";
import type { LoadJob, LoadResult } from "./load-job.js";
import type { TargetSpec } from "./targets.js";

export const HISTORY_TURNS = 20;
export const PROMPT = "主播今天玩什么游戏？can we name the cat after the chat?";
export const API_KEY = "sk-test-bench-0000000000000000";
export const ACCESS_TOKEN = "at-test-bench-0000000000000000";

/**
 * The token budget that keeps exactly `turns` turns of PROMPT / DEFAULT_REPLY
 * after the API-key backend's default persona (see core's fitHistory).
 */
export async function historyBudget(turns: number): Promise<number> {
  const count = await loadTokenCounter(undefined);
  const system = count(DEFAULT_SYSTEM_PROMPT) + MESSAGE_OVERHEAD_TOKENS;
  const prompt = count(PROMPT) + MESSAGE_OVERHEAD_TOKENS;
  const reply = count(DEFAULT_REPLY) + MESSAGE_OVERHEAD_TOKENS;
  return system + turns * (prompt + reply) + prompt + 3 + Math.floor((prompt + reply) / 2);
}

/** Turns of history in a chat-completions request body (messages minus the system prompt and the new prompt). */
export function historyTurnsOf(body: string): number {
  const { messages } = JSON.parse(body) as { messages?: unknown[] };
  return ((messages?.length ?? 2) - 2) / 2;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const worker = await startChild({ bundle: "load-worker.js" });
  try {
    const reply = await worker.ask({ type: "run", job }, "result", job.warmupMs + job.durationMs + 60_000);
    return reply.result as LoadResult;
  } finally {
    await worker.stop();
  }
}

/** The server's environment: cooldown 0, the fake upstream, the fake credentials, a budget of `budget` tokens. */
export function serverEnv({
  upstreamOrigin,
  budget,
  logLevel,
}: {
  upstreamOrigin: string;
  budget: number;
  logLevel: string;
}): Record<string, string> {
  return {
    API_URL: `${upstreamOrigin}/v1`,
    OPENAI_API_KEY: API_KEY,
    CHATGPT_BASE_URL: `${upstreamOrigin}/backend-api`,
    CHATGPT_ACCESS_TOKEN: ACCESS_TOKEN,
    CHATGPT_V3_COOLDOWN: "0",
    CHATGPT_COOLDOWN: "0",
    CHATBOT_MAX_SESSIONS: "1000",
    CHATBOT_MAX_TOKENS: String(budget),
    LOG_LEVEL: logLevel,
    // Sessions in memory unless a bench says otherwise: the program's default
    // (SQLite in the home folder) must not collect every run's sessions.
    CHATBOT_STORE: "memory",
  };
}

export type TargetName = "grpc" | "connect" | "ask" | "direct" | "hop";
export const ALL_TARGETS: readonly TargetName[] = ["grpc", "connect", "ask", "direct", "hop"];

/** Whose CPU a target's requests cost: the server's, the hop's, or (the floor) nobody's. */
export const COST_OF: Readonly<Record<TargetName, "server" | "hop" | undefined>> = {
  grpc: "server",
  connect: "server",
  ask: "server",
  direct: undefined,
  hop: "hop",
};

/** The load target for a name. `body` is the server's steady-state upstream request (for the references). */
export function targetSpec(
  name: TargetName,
  {
    grpcAddress,
    httpOrigin,
    upstreamOrigin,
    hopOrigin,
    body,
  }: { grpcAddress: string; httpOrigin: string; upstreamOrigin: string; hopOrigin: string; body: string },
): TargetSpec {
  const sessionConfig = JSON.stringify({ version: 3, api_key: API_KEY });
  switch (name) {
    case "grpc":
      return { kind: "grpc", address: grpcAddress, sessionConfig, prompt: PROMPT };
    case "connect":
      return { kind: "connect", baseUrl: `http://${grpcAddress}`, sessionConfig, prompt: PROMPT };
    case "ask":
      return { kind: "ask", origin: httpOrigin, prompt: PROMPT };
    case "direct":
      return {
        kind: "raw",
        origin: upstreamOrigin,
        path: "/v1/chat/completions",
        body,
        authorization: `Bearer ${API_KEY}`,
      };
    case "hop":
      return { kind: "raw", origin: hopOrigin, path: "/v1/chat/completions", body, authorization: `Bearer ${API_KEY}` };
  }
}
