/**
 * Issue 16's measurement: the server against the reference (reference-server.ts)
 * on the realistic workload (workload.ts), side by side in one run:
 * `node dist/versus-reference.js [--rounds 3] [--load-seconds 20]
 * [--idle-seconds 60] [--warmup-seconds 2] [--variants pieces-8,tokens]
 * [--server PATH] [--server-env "NAME=VALUE ..."] [--out FILE]`.
 * `--server-env` adds to the server's environment, to attribute a cost (e.g.
 * `CHATBOT_STORE=memory`); the figures issue 16 asks for are without it.
 *
 * The server is the built program started as `pnpm start` starts it (the file
 * itself, so its first line's `--max-semi-space-size` applies), gRPC only,
 * with its default store (SQLite, in a temporary XDG_STATE_HOME) and default
 * logging (info, stdout to /dev/null); only the API-key cooldown is off
 * (CHATGPT_V3_COOLDOWN=0), or the load could not run. The reference is plain
 * `node`. Both run at once against one fast upstream; each round runs every
 * workload variant on each side in turn, alternating which goes first. Every
 * run opens 10 fresh sessions, fills their history (seed turns), warms up,
 * then measures `--load-seconds` of closed-loop load at concurrency 16.
 *
 * Printed (medians over rounds): CPU per chat of each process alone (/proc)
 * and the ratio server / reference; chats per second and ratio; RSS at the
 * end of the load window and ratio; idle RSS before any load, and RSS after
 * `--idle-seconds` of idling at the end; the targets of issue 16 met or not.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_OPENAI_MODEL, DEFAULT_SYSTEM_PROMPT } from "@chatgptchatbot/chatgpt-client";
import { loadTokenCounter } from "@chatgptchatbot/core";
import { type Child, startChild } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import { WORKLOAD_REPLY } from "./fast-upstream.js";
import { freePort } from "./free-port.js";
import { readRssBytes } from "./proc-stat.js";
import { historyTurnsOf, PROMPT, runLoad } from "./scenario.js";
import { type ServerProcess, startServer } from "./server-process.js";
import { percentile } from "./stats.js";
import {
  WORKLOAD_BUDGET_TOKENS,
  WORKLOAD_CONCURRENCY,
  WORKLOAD_SESSIONS,
  WORKLOAD_VARIANTS,
  workloadSeedTurns,
  workloadSessionConfig,
} from "./workload.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
const { values: flags } = parseCli(
  "node dist/versus-reference.js [options]: issue 16's measurement, the server against the reference server on the realistic workload",
  {
    args: argv,
    options: {
      rounds: { type: "string", default: "3" },
      "warmup-seconds": { type: "string", default: "2" },
      "load-seconds": { type: "string", default: "20" },
      "idle-seconds": { type: "string", default: "60" },
      /** Seconds after start before the idle RSS is read. */
      "settle-seconds": { type: "string", default: "10" },
      variants: { type: "string", default: WORKLOAD_VARIANTS.map((v) => v.name).join(",") },
      server: { type: "string", default: path.join(repoRoot, "apps/server/dist/main.js") },
      "server-env": { type: "string", default: "" },
      out: { type: "string", default: path.join(here, "..", "results", "versus-reference.json") },
    },
  },
);

const log = (message: string) => process.stderr.write(`[versus-reference] ${message}\n`);
const seconds = (name: "warmup-seconds" | "load-seconds" | "idle-seconds" | "settle-seconds"): number => {
  const value = Number(flags[name]);
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`--${name}: a number of seconds ≥ 0`);
  return value;
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const median = (values: readonly number[]): number => percentile(Float64Array.from(values).sort(), 0.5);
/** Megabytes (10^6 bytes), the unit of issue 16's targets. */
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

type Side = "server" | "reference";

/** "NAME=VALUE NAME2=VALUE2" → an environment to add. */
function envPairs(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(" ").filter((s) => s !== "")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--server-env: expected NAME=VALUE, got ${pair}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

interface Sample {
  readonly side: Side;
  readonly variant: string;
  readonly round: number;
  readonly chats: number;
  readonly cpuMicrosPerChat: number;
  readonly chatsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** RSS at the end of the load window. */
  readonly rssAfterLoadBytes: number;
  /** The last request body the upstream received from this side in this run. */
  readonly upstreamBodyBytes: number;
  readonly upstreamHistoryTurns: number;
}

async function main(): Promise<number> {
  const rounds = Number(flags.rounds);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new RangeError("--rounds: a whole number > 0");
  const variants = WORKLOAD_VARIANTS.filter((v) => flags.variants.split(",").includes(v.name));
  if (variants.length === 0) throw new RangeError(`--variants: some of ${WORKLOAD_VARIANTS.map((v) => v.name)}`);
  const [warmupMs, loadMs, idleMs, settleMs] = (
    ["warmup-seconds", "load-seconds", "idle-seconds", "settle-seconds"] as const
  ).map((name) => seconds(name) * 1000) as [number, number, number, number];
  const serverEnv = envPairs(flags["server-env"]);
  const seedTurns = workloadSeedTurns({
    prompt: PROMPT,
    reply: WORKLOAD_REPLY,
    count: await loadTokenCounter(DEFAULT_OPENAI_MODEL),
  });
  log(
    `${WORKLOAD_SESSIONS} sessions, concurrency ${WORKLOAD_CONCURRENCY}, ${seedTurns} seed turns a session, ` +
      `${warmupMs / 1000} s warmup + ${loadMs / 1000} s measured a run, ${rounds} rounds`,
  );

  const stateHome = mkdtempSync(path.join(tmpdir(), "versus-reference-"));
  const children: Child[] = [];
  let server: ServerProcess | undefined;
  const samples: Sample[] = [];
  const idleBefore: Partial<Record<Side, number>> = {};
  const idleAfter: Partial<Record<Side, number>> = {};
  let nodeOptions = "";
  try {
    const upstream = await startChild({ bundle: "upstream-main.js", args: ["--workload"] });
    children.push(upstream);
    const upstreamOrigin = String(upstream.ready.origin);
    const reference = await startChild({
      bundle: "reference-main.js",
      args: [
        "--system-prompt",
        DEFAULT_SYSTEM_PROMPT,
        "--model",
        DEFAULT_OPENAI_MODEL,
        "--max-tokens",
        String(WORKLOAD_BUDGET_TOKENS),
      ],
    });
    children.push(reference);
    server = await startServer({
      bin: flags.server,
      asCommand: true,
      grpcPort: await freePort(),
      // The program's defaults but for the cooldown: a fresh SQLite file, LOG_LEVEL info.
      env: { HOME: stateHome, XDG_STATE_HOME: stateHome, CHATGPT_V3_COOLDOWN: "0", ...serverEnv },
    });
    // What its first line gave node (read from outside, as the process holds it).
    nodeOptions =
      readFileSync(`/proc/${server.pid}/environ`, "utf8")
        .split("\0")
        .find((entry) => entry.startsWith("NODE_OPTIONS="))
        ?.slice("NODE_OPTIONS=".length) ?? "";
    if (!nodeOptions.includes("--max-semi-space-size="))
      log(`warning: the server runs without its first line's --max-semi-space-size (NODE_OPTIONS="${nodeOptions}")`);
    const storeFile =
      serverEnv.CHATBOT_STORE === undefined
        ? path.join(stateHome, "chatgptchatbot", "sessions.db")
        : serverEnv.CHATBOT_STORE;
    if (serverEnv.CHATBOT_STORE === undefined && !existsSync(storeFile))
      throw new Error(`the server did not open its default store at ${storeFile}`);
    const sides: Record<Side, { pid: number; address: string }> = {
      server: { pid: server.pid, address: server.grpcAddress },
      reference: { pid: reference.pid, address: String(reference.ready.address) },
    };
    log(
      `server pid ${server.pid} on ${server.grpcAddress} (NODE_OPTIONS="${nodeOptions}", store ${storeFile}); ` +
        `reference pid ${reference.pid} on ${sides.reference.address}; upstream ${upstreamOrigin}`,
    );

    await sleep(settleMs);
    for (const side of ["server", "reference"] as const) idleBefore[side] = readRssBytes(sides[side].pid);
    log(`idle RSS before load: server ${mb(idleBefore.server!)} MB, reference ${mb(idleBefore.reference!)} MB`);

    for (let round = 0; round < rounds; round++) {
      for (const [v, variant] of variants.entries()) {
        const order: readonly Side[] = (round + v) % 2 === 0 ? ["server", "reference"] : ["reference", "server"];
        for (const side of order) {
          const result = await runLoad({
            target: {
              kind: "grpc",
              address: sides[side].address,
              sessionConfig: workloadSessionConfig({ upstreamOrigin, variant }),
              prompt: PROMPT,
              sessions: WORKLOAD_SESSIONS,
              seedTurns,
            },
            concurrency: WORKLOAD_CONCURRENCY,
            warmupMs,
            durationMs: loadMs,
            watch: { [side]: sides[side].pid },
          });
          if (result.errors > 0 || result.requests === 0)
            throw new Error(`${side} ${variant.name}: ${result.errors} errors (${result.firstError ?? "no chats"})`);
          const last = await upstream.ask({ type: "last-body" }, "last-body", 5000);
          const body = typeof last.body === "string" ? last.body : "";
          const sample: Sample = {
            side,
            variant: variant.name,
            round,
            chats: result.requests,
            cpuMicrosPerChat: result.cpuMicros[side]! / result.requests,
            chatsPerSecond: result.requestsPerSecond,
            p50Ms: result.latency.p50Ms,
            p99Ms: result.latency.p99Ms,
            rssAfterLoadBytes: result.rssBytes[side]!,
            upstreamBodyBytes: Buffer.byteLength(body),
            upstreamHistoryTurns: body === "" ? 0 : historyTurnsOf(body),
          };
          samples.push(sample);
          log(
            `round ${round + 1} ${variant.name} ${side}: ${sample.cpuMicrosPerChat.toFixed(0)} µs CPU/chat, ` +
              `${sample.chatsPerSecond.toFixed(0)} chats/s, p50 ${sample.p50Ms.toFixed(2)} ms, ` +
              `RSS ${mb(sample.rssAfterLoadBytes)} MB; upstream body ${sample.upstreamBodyBytes} bytes ` +
              `(${sample.upstreamHistoryTurns} turns of history)`,
          );
        }
      }
    }

    log(`idling ${idleMs / 1000} s`);
    await sleep(idleMs);
    for (const side of ["server", "reference"] as const) idleAfter[side] = readRssBytes(sides[side].pid);
    log(`server memory after idling: ${await heapBreakdown(sides.server.address)}`);
  } finally {
    if (server !== undefined) {
      const code = await server.stop();
      if (code !== 0) log(`the server exited with ${code}:\n${server.stderrTail()}`);
    }
    for (const child of children.reverse()) await child.stop();
    rmSync(stateHome, { recursive: true, force: true });
  }

  const report = renderReport({
    samples,
    variants: variants.map((v) => v.name),
    idleBefore: idleBefore as Record<Side, number>,
    idleAfter: idleAfter as Record<Side, number>,
    idleSeconds: idleMs / 1000,
    loadSeconds: loadMs / 1000,
  });
  process.stdout.write(
    `Medians of ${rounds} alternating rounds (${seedTurns} seed turns a session, ${warmupMs / 1000} s warmup + ` +
      `${loadMs / 1000} s measured each; ${WORKLOAD_SESSIONS} sessions, concurrency ${WORKLOAD_CONCURRENCY}):\n\n` +
      `${report.text}\n`,
  );
  mkdirSync(path.dirname(flags.out), { recursive: true });
  writeFileSync(
    flags.out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command: `node apps/bench/dist/versus-reference.js ${argv.join(" ")}`.trim(),
        server: flags.server,
        serverEnv,
        serverNodeOptions: nodeOptions,
        seedTurns,
        warmupMs,
        loadMs,
        idleMs,
        idleRssBeforeBytes: idleBefore,
        idleRssAfterBytes: idleAfter,
        samples,
        targets: report.targets,
      },
      null,
      2,
    )}\n`,
  );
  return 0;
}

interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** The tables and issue 16's targets, from the samples of one run. */
function renderReport({
  samples,
  variants,
  idleBefore,
  idleAfter,
  idleSeconds,
  loadSeconds,
}: {
  samples: readonly Sample[];
  variants: readonly string[];
  idleBefore: Readonly<Record<Side, number>>;
  idleAfter: Readonly<Record<Side, number>>;
  idleSeconds: number;
  loadSeconds: number;
}): { text: string; targets: TargetCheck[] } {
  const med = (side: Side, variant: string, key: keyof Sample) =>
    median(samples.filter((s) => s.side === side && s.variant === variant).map((s) => Number(s[key])));
  const targets: TargetCheck[] = [];
  const lines = [
    `| Variant | CPU / chat: server, reference (ratio) | chats/s: server, reference (ratio) | p50 ms: server, reference | RSS after ${loadSeconds} s of load, MB: server, reference (ratio) | upstream body bytes: server, reference |`,
    "|---|--:|--:|--:|--:|--:|",
  ];
  for (const variant of variants) {
    const cpu = {
      server: med("server", variant, "cpuMicrosPerChat"),
      reference: med("reference", variant, "cpuMicrosPerChat"),
    };
    const rate = {
      server: med("server", variant, "chatsPerSecond"),
      reference: med("reference", variant, "chatsPerSecond"),
    };
    const rss = {
      server: med("server", variant, "rssAfterLoadBytes"),
      reference: med("reference", variant, "rssAfterLoadBytes"),
    };
    const p50 = { server: med("server", variant, "p50Ms"), reference: med("reference", variant, "p50Ms") };
    const body = {
      server: med("server", variant, "upstreamBodyBytes"),
      reference: med("reference", variant, "upstreamBodyBytes"),
    };
    const ratio = (of: Record<Side, number>) => of.server / of.reference;
    lines.push(
      `| ${variant} | ${cpu.server.toFixed(0)} µs, ${cpu.reference.toFixed(0)} µs (${ratio(cpu).toFixed(2)}×) | ` +
        `${rate.server.toFixed(0)}, ${rate.reference.toFixed(0)} (${ratio(rate).toFixed(2)}×) | ` +
        `${p50.server.toFixed(2)}, ${p50.reference.toFixed(2)} | ` +
        `${mb(rss.server)}, ${mb(rss.reference)} (${ratio(rss).toFixed(2)}×) | ${body.server.toFixed(0)}, ${body.reference.toFixed(0)} |`,
    );
    targets.push(
      {
        target: `${variant}: CPU per chat ≤ 1.5× the reference's`,
        measured: `${ratio(cpu).toFixed(2)}×`,
        met: ratio(cpu) <= 1.5,
      },
      {
        target: `${variant}: chats/s ≥ 0.7× the reference's`,
        measured: `${ratio(rate).toFixed(2)}×`,
        met: ratio(rate) >= 0.7,
      },
      {
        target: `${variant}: RSS after ${loadSeconds} s of load ≤ 1.2× the reference's`,
        measured: `${ratio(rss).toFixed(2)}×`,
        met: ratio(rss) <= 1.2,
      },
    );
  }
  targets.push(
    {
      target: `RSS after ${idleSeconds} s idle < 150 MB`,
      measured: `${mb(idleAfter.server)} MB`,
      met: idleAfter.server < 150 * 1e6,
    },
    {
      target: "idle RSS before load ≤ the reference's + 20 MB",
      measured: `${mb(idleBefore.server)} MB vs ${mb(idleBefore.reference)} MB`,
      met: idleBefore.server <= idleBefore.reference + 20 * 1e6,
    },
  );
  lines.push(
    "",
    "| Memory (MB) | Server | Reference |",
    "|---|--:|--:|",
    `| idle, before any load | ${mb(idleBefore.server)} | ${mb(idleBefore.reference)} |`,
    `| after ${idleSeconds} s idle, at the end | ${mb(idleAfter.server)} | ${mb(idleAfter.reference)} |`,
    "",
    ...targets.map((t) => `- ${t.met ? "ok" : "NO"} ${t.target}: ${t.measured}`),
  );
  return { text: lines.join("\n"), targets };
}

process.exitCode = await main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 1;
});

/**
 * What the server's RSS holds after idling, from its own /metrics (on the gRPC
 * port): V8's heap (used of committed) and what lives outside it, so the
 * figure says whether the heap or native memory keeps RSS up.
 */
async function heapBreakdown(address: string): Promise<string> {
  try {
    const response = await fetch(`http://${address}/metrics`);
    const text = await response.text();
    const value = (name: string): number => {
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
    };
    const heapUsed = value("nodejs_heap_size_used_bytes");
    const heapTotal = value("nodejs_heap_size_total_bytes");
    const external = value("nodejs_external_memory_bytes");
    const rss = value("process_resident_memory_bytes");
    return (
      `RSS ${mb(rss)} MB: V8 heap ${mb(heapUsed)} MB used of ${mb(heapTotal)} MB committed, external ${mb(external)} MB, ` +
      `the rest (code, native allocations, malloc arenas) ${mb(rss - heapTotal - external)} MB`
    );
  } catch (error) {
    return `(no /metrics: ${error instanceof Error ? error.message : String(error)})`;
  }
}
