/** The shape of a benchmark run's results (the JSON file) and the targets it is checked against. */

import type { ComponentResult } from "./components.js";
import type { LoadResult } from "./load-job.js";
import type { MachineInfo } from "./machine.js";
import type { MemoryResult } from "./memory.js";

/** What a run measured: a target at one concurrency. */
export interface RunRecord {
  /** "grpc", "connect", "ask", "direct", "hop", or a streaming scenario's name. */
  readonly target: string;
  readonly concurrency: number;
  /** The process whose CPU is this target's cost ("server", "hop", or none for the direct floor). */
  readonly costOf: "server" | "hop" | undefined;
  readonly result: LoadResult;
}

export interface BenchResults {
  readonly meta: {
    readonly date: string;
    readonly command: string;
    readonly machine: MachineInfo;
    readonly quick: boolean;
    readonly warmupMs: number;
    readonly durationMs: number;
    /** Turns of history each session holds in the steady state. */
    readonly historyTurns: number;
    /** The token budget (CHATBOT_MAX_TOKENS) that keeps that many turns. */
    readonly historyBudgetTokens: number;
    readonly prompt: string;
    readonly logLevel: string;
    /** Bytes of the server's steady-state upstream request, replayed by the references. */
    readonly upstreamBodyBytes: number;
  };
  readonly idleRssBytes: number | undefined;
  /** The server's CPU while idle after start (clock-tick resolution: 10 ms over the window). */
  readonly idleCpuMicrosPerSecond?: number | undefined;
  readonly rssAfterLoadBytes: number | undefined;
  readonly throughput: readonly RunRecord[];
  readonly streaming: readonly RunRecord[];
  readonly memory: readonly MemoryResult[];
  /** The server with an instant in-process backend (targets "grpc", "connect", "ask"): transports + pool. */
  readonly instant: readonly RunRecord[];
  /** Each layer alone, in-process. */
  readonly components: readonly ComponentResult[];
  /** Why the run stopped early, if it did. */
  readonly failure?: string | undefined;
}

/** CPU µs per request of a run's costly process (undefined for the floor, or no requests). */
export function cpuPerRequest(run: RunRecord): number | undefined {
  if (run.costOf === undefined || run.result.requests === 0) return undefined;
  const cpu = run.result.cpuMicros[run.costOf];
  return cpu === undefined ? undefined : cpu / run.result.requests;
}

/** CPU µs per request of another watched process (e.g. the upstream). */
export function cpuPerRequestOf(run: RunRecord, name: string): number | undefined {
  const cpu = run.result.cpuMicros[name];
  return cpu === undefined || run.result.requests === 0 ? undefined : cpu / run.result.requests;
}

export interface TargetCheck {
  readonly target: string;
  readonly limit: string;
  /** Undefined when the run did not measure it. */
  readonly measured: string | undefined;
  readonly met: boolean | undefined;
}

const find = (runs: readonly RunRecord[], target: string, concurrency: number) =>
  runs.find((r) => r.target === target && r.concurrency === concurrency);

const fmt = (n: number | undefined, digits = 0, unit = ""): string | undefined =>
  n === undefined || Number.isNaN(n) ? undefined : `${n.toFixed(digits)}${unit}`;

/** The targets (2-core machine, fake upstream answering at once, concurrency 16). */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (
    target: string,
    limit: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    shown: string | undefined,
  ) =>
    checks.push({
      target,
      limit,
      measured: value === undefined ? undefined : shown,
      met: value === undefined ? undefined : ok(value),
    });

  const grpc16 = find(results.throughput, "grpc", 16);
  const grpcCpu = grpc16 && cpuPerRequest(grpc16);
  check("gRPC Chat: server CPU per chat (c=16)", "≤ 200 µs", grpcCpu, (v) => v <= 200, fmt(grpcCpu, 0, " µs"));
  const grpcRps = grpc16?.result.requestsPerSecond;
  check("gRPC Chat: chats/s (c=16)", "≥ 4,000", grpcRps, (v) => v >= 4000, fmt(grpcRps, 0));
  for (const [target, name] of [
    ["connect", "Connect Chat"],
    ["ask", "HTTP /ask"],
  ] as const) {
    const run = find(results.throughput, target, 16);
    const cpu = run && cpuPerRequest(run);
    const ratio = cpu !== undefined && grpcCpu !== undefined ? cpu / grpcCpu : undefined;
    check(
      `${name}: CPU per request vs gRPC (c=16)`,
      "≤ 1.5×",
      ratio,
      (v) => v <= 1.5,
      ratio === undefined ? undefined : `${ratio.toFixed(2)}× (${cpu!.toFixed(0)} µs)`,
    );
  }
  const grpc1 = find(results.throughput, "grpc", 1);
  const direct1 = find(results.throughput, "direct", 1);
  const added = grpc1 && direct1 ? grpc1.result.latency.p50Ms - direct1.result.latency.p50Ms : undefined;
  check(
    "gRPC Chat: p50 latency added over the direct upstream (c=1)",
    "≤ 0.3 ms",
    added,
    (v) => v <= 0.3,
    fmt(added, 3, " ms"),
  );
  const burst = find(results.streaming, "stream-burst", 1);
  const relay = burst?.result.extra.firstEventToReply?.p50Ms;
  check(
    "Streamed reply: first upstream event → reply at the client, p50 (c=1)",
    "≤ 1 ms",
    relay,
    (v) => v <= 1,
    fmt(relay, 3, " ms"),
  );
  const idle = results.idleRssBytes === undefined ? undefined : results.idleRssBytes / 2 ** 20;
  check("Idle RSS of the server", "≤ 80 MB", idle, (v) => v <= 80, fmt(idle, 1, " MiB"));
  const mem = [...results.memory].sort((a, b) => b.sessions - a.sessions)[0];
  const overhead = mem?.heapOverheadPerSessionBytes;
  check(
    `Memory per idle session beyond its text (${mem?.sessions ?? "?"} sessions, heap)`,
    "≤ 4 KB",
    overhead,
    (v) => v <= 4096,
    overhead === undefined ? undefined : `${(overhead / 1024).toFixed(2)} KiB`,
  );
  return checks;
}

/**
 * Cores that processes outside the benchmark kept busy during a run's window
 * (other work on a shared machine): the machine's busy time minus the watched
 * processes' and the load generator's, over the window.
 */
export function unrelatedCores(run: RunRecord): number | undefined {
  const { machineBusyMicros, cpuMicros, loadGeneratorCpuMicros, windowMs } = run.result;
  if (machineBusyMicros === undefined || windowMs <= 0) return undefined;
  let ours = loadGeneratorCpuMicros;
  for (const micros of Object.values(cpuMicros)) ours += micros;
  return Math.max(0, machineBusyMicros - ours) / (windowMs * 1000);
}
