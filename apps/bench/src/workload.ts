/**
 * Issue 16's realistic workload, as options of the harness: a grpc-js client,
 * 10 sessions shared by 16 workers, an instant upstream replying ~200 bytes
 * (WORKLOAD_REPLY) cut into events of at most 8 characters or into
 * token-sized pieces, and every session's history filled to the default
 * 3000-token budget before the load starts (~12 KB request bodies).
 */
import type { TokenCounter } from "@chatgptchatbot/core";
import { MESSAGE_OVERHEAD_TOKENS } from "@chatgptchatbot/core";
import { API_KEY } from "./scenario.js";

export const WORKLOAD_SESSIONS = 10;
export const WORKLOAD_CONCURRENCY = 16;
/** The server's default CHATBOT_MAX_TOKENS, and the reference's cap. */
export const WORKLOAD_BUDGET_TOKENS = 3000;

export interface WorkloadVariant {
  readonly name: string;
  /** The fast upstream's path prefix that cuts the reply this way (see fast-upstream.ts). */
  readonly prefix: string;
  readonly description: string;
}

export const WORKLOAD_VARIANTS: readonly WorkloadVariant[] = [
  { name: "pieces-8", prefix: "/pieces-8", description: "at most 8 characters an event (25 + 3 events)" },
  { name: "tokens", prefix: "/pieces-tokens", description: "one token-sized piece (2–4 characters) an event" },
];

/** A session's config: an API-key session on the fake upstream, with its reply cut as `variant` says. */
export function workloadSessionConfig({
  upstreamOrigin,
  variant,
}: {
  upstreamOrigin: string;
  variant: WorkloadVariant;
}): string {
  return JSON.stringify({ version: 3, api_key: API_KEY, base_url: `${upstreamOrigin}${variant.prefix}/v1` });
}

/**
 * Turns to chat on a new session before its history is full on both sides:
 * the server's (real tokens + per-message overhead) and the reference's
 * (characters / 4), each counted as if the system prompt were free (so the
 * figure is an upper bound), plus one turn that drops the oldest.
 */
export function workloadSeedTurns({
  prompt,
  reply,
  budgetTokens = WORKLOAD_BUDGET_TOKENS,
  count,
}: {
  prompt: string;
  reply: string;
  budgetTokens?: number;
  /** The server's token counter (core's loadTokenCounter). */
  count: TokenCounter;
}): number {
  const promptTokens = count(prompt) + MESSAGE_OVERHEAD_TOKENS;
  const turnTokens = promptTokens + count(reply) + MESSAGE_OVERHEAD_TOKENS;
  const serverTurns = Math.floor((budgetTokens - promptTokens) / turnTokens);
  const referenceTurns = Math.floor((budgetTokens * 4 - prompt.length) / (prompt.length + reply.length));
  return Math.max(serverTurns, referenceTurns) + 1;
}
