/**
 * A/B comparison of two builds of the server, for the before/after figures of
 * a change: `node dist/compare.js --a OLD/main.js --b NEW/main.js` (or one
 * build with different node flags: `--node-b=--max-semi-space-size=4`). Both run
 * at once against one fast upstream; the same loads go to each in turn,
 * alternating which goes first, for `--rounds` rounds; medians are reported.
 * Alternating back to back is what makes small differences visible on a
 * machine whose other work comes and goes.
 *
 * To keep a build of "before": `rsync -a --exclude .git /work/main/ /tmp/before/`
 * (node_modules links are relative, so the copy runs on its own).
 *
 * One build with two settings: `--a X/main.js --b X/main.js --env-b
 * CHATBOT_STORE=sqlite:/tmp/bench.db` (space-separated NAME=VALUE pairs added
 * to that side's environment; the default store of both is memory).
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import { freePort } from "./free-port.js";
import type { LoadResult } from "./load-job.js";
import { readRssBytes } from "./proc-stat.js";
import {
  COST_OF,
  HISTORY_TURNS,
  historyBudget,
  historyTurnsOf,
  runLoad,
  serverEnv,
  type TargetName,
  targetSpec,
} from "./scenario.js";
import { type ServerProcess, startServer } from "./server-process.js";
import { percentile } from "./stats.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
const { values: flags } = parseCli(
  "node dist/compare.js --a OLD/main.js --b NEW/main.js [options]: two builds of the server side by side, medians of --rounds rounds",
  {
    args: argv,
    options: {
      a: { type: "string" },
      b: { type: "string" },
      "node-a": { type: "string", default: "" },
      "node-b": { type: "string", default: "" },
      "env-a": { type: "string", default: "" },
      "env-b": { type: "string", default: "" },
      "label-a": { type: "string", default: "before" },
      "label-b": { type: "string", default: "after" },
      targets: { type: "string", default: "grpc" },
      concurrency: { type: "string", default: "16" },
      rounds: { type: "string", default: "5" },
      warmup: { type: "string", default: "1000" },
      duration: { type: "string", default: "2000" },
      "log-level": { type: "string", default: "info" },
      /** Events per streamed reply of the fake upstream (a model streams a token an event: try 70). */
      "stream-events": { type: "string", default: "16" },
      out: { type: "string" },
    },
  },
);
if (flags.a === undefined || flags.b === undefined) {
  process.stderr.write(
    "usage: compare --a SERVER_A/main.js --b SERVER_B/main.js [--targets grpc,ask] [--concurrency 16] [--rounds 5]\n",
  );
  process.exit(2);
}
const log = (message: string) => process.stderr.write(`[compare] ${message}\n`);

interface Sample {
  readonly side: "a" | "b";
  readonly target: TargetName;
  readonly concurrency: number;
  readonly round: number;
  readonly cpuPerRequest: number | undefined;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The server's RSS right after the run, in bytes. */
  readonly rssBytes: number;
}

/** "NAME=VALUE NAME2=VALUE2" → an environment to add. */
function envPairs(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(" ").filter((s) => s !== "")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--env-a/--env-b: expected NAME=VALUE, got ${pair}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

const median = (values: number[]): number => percentile(Float64Array.from(values).sort(), 0.5);

async function main(): Promise<void> {
  const targets = flags.targets.split(",") as TargetName[];
  const levels = flags.concurrency.split(",").map(Number);
  const rounds = Number(flags.rounds);
  const budget = await historyBudget(HISTORY_TURNS);
  const upstream = await startChild({ bundle: "upstream-main.js", args: ["--stream-events", flags["stream-events"]] });
  const upstreamOrigin = String(upstream.ready.origin);
  const servers: Record<"a" | "b", ServerProcess | undefined> = { a: undefined, b: undefined };
  const samples: Sample[] = [];
  try {
    for (const side of ["a", "b"] as const) {
      servers[side] = await startServer({
        bin: path.resolve(flags[side]!),
        execArgv: (flags[side === "a" ? "node-a" : "node-b"] ?? "").split(" ").filter((s) => s !== ""),
        grpcPort: await freePort(),
        httpPort: await freePort(),
        env: {
          ...serverEnv({ upstreamOrigin, budget, logLevel: flags["log-level"] }),
          ...envPairs(flags[side === "a" ? "env-a" : "env-b"] ?? ""),
        },
      });
    }
    const origins = (side: "a" | "b") => ({
      grpcAddress: servers[side]!.grpcAddress,
      httpOrigin: servers[side]!.httpOrigin,
      upstreamOrigin,
      hopOrigin: upstreamOrigin,
      body: "",
    });
    for (const side of ["a", "b"] as const) {
      await runLoad({
        target: targetSpec("grpc", origins(side)),
        concurrency: 1,
        warmupMs: 0,
        durationMs: 300,
        watch: {},
      });
      const last = await upstream.ask({ type: "last-body" }, "last-body", 5000);
      log(`${side}: steady state ${historyTurnsOf(String(last.body))} turns`);
    }
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        for (const concurrency of levels) {
          const order = round % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const);
          for (const side of order) {
            const result: LoadResult = await runLoad({
              target: targetSpec(target, origins(side)),
              concurrency,
              warmupMs: Number(flags.warmup),
              durationMs: Number(flags.duration),
              watch: { server: servers[side]!.pid },
            });
            if (result.errors > 0) throw new Error(`${side} ${target}: ${result.errors} errors (${result.firstError})`);
            const cpu = COST_OF[target] === "server" ? result.cpuMicros.server! / result.requests : undefined;
            samples.push({
              side,
              target,
              concurrency,
              round,
              cpuPerRequest: cpu,
              requestsPerSecond: result.requestsPerSecond,
              p50Ms: result.latency.p50Ms,
              p99Ms: result.latency.p99Ms,
              rssBytes: readRssBytes(servers[side]!.pid),
            });
            log(
              `round ${round + 1} ${side} ${target} c=${concurrency}: ${cpu?.toFixed(0) ?? "–"} µs/req, ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latency.p50Ms.toFixed(3)} ms`,
            );
          }
        }
      }
    }
  } finally {
    for (const side of ["a", "b"] as const) await servers[side]?.stop();
    await upstream.stop();
  }

  const label = { a: flags["label-a"], b: flags["label-b"] };
  const lines = [
    `| Target | Concurrency | CPU / request (${label.a} → ${label.b}) | req/s | p50 (ms) | p99 (ms) | RSS after (MiB) |`,
    "|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const target of targets) {
    for (const concurrency of levels) {
      const of = (side: "a" | "b") =>
        samples.filter((s) => s.side === side && s.target === target && s.concurrency === concurrency);
      const med = (side: "a" | "b", key: "cpuPerRequest" | "requestsPerSecond" | "p50Ms" | "p99Ms" | "rssBytes") =>
        median(of(side).map((s) => s[key] ?? Number.NaN));
      const cpuA = med("a", "cpuPerRequest");
      const cpuB = med("b", "cpuPerRequest");
      const change = ((cpuB - cpuA) / cpuA) * 100;
      lines.push(
        `| ${target} | ${concurrency} | ${cpuA.toFixed(0)} → ${cpuB.toFixed(0)} µs (${change >= 0 ? "+" : ""}${change.toFixed(0)}%) | ${med("a", "requestsPerSecond").toFixed(0)} → ${med("b", "requestsPerSecond").toFixed(0)} | ${med("a", "p50Ms").toFixed(3)} → ${med("b", "p50Ms").toFixed(3)} | ${med("a", "p99Ms").toFixed(2)} → ${med("b", "p99Ms").toFixed(2)} | ${(med("a", "rssBytes") / 2 ** 20).toFixed(0)} → ${(med("b", "rssBytes") / 2 ** 20).toFixed(0)} |`,
      );
    }
  }
  const table = lines.join("\n");
  process.stdout.write(
    `Medians of ${rounds} alternating rounds (${flags.warmup} ms warmup + ${flags.duration} ms each):\n\n${table}\n`,
  );
  const out = flags.out ?? path.join(here, "..", "results", `compare-${label.a}-${label.b}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), a: flags.a, b: flags.b, label, samples, table }, null, 2)}\n`,
  );
}

await main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
