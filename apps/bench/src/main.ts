/**
 * `pnpm bench`: measures the server's own cost against a fast fake upstream
 * and a bare Node hop, all on 127.0.0.1, and writes BENCHMARKS.md (the
 * generated section) and apps/bench/results/latest.json.
 *
 * Flags: --quick (short windows), --targets grpc,connect,ask,direct,hop,
 * --concurrency 1,16,64, --sections throughput,streaming,breakdown,memory,
 * --label NAME (also write results/NAME.json), --profile (the servers under
 * --cpu-prof, profiles in results/profiles/, each run's window printed),
 * --node-options=FLAGS (node flags for the server), --log-level LEVEL,
 * --server PATH, --no-write (JSON only; implied by any filter, so
 * BENCHMARKS.md only ever shows full runs).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Child, startChild } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import type { ComponentResult } from "./components.js";
import { freePort } from "./free-port.js";
import { machineInfo } from "./machine.js";
import type { MemoryResult } from "./memory.js";
import { readCpuMicros, readRssBytes } from "./proc-stat.js";
import { renderResults, spliceResults } from "./report.js";
import { type BenchResults, checkTargets, cpuPerRequest, type RunRecord } from "./results.js";
import {
  ACCESS_TOKEN,
  ALL_TARGETS,
  API_KEY,
  COST_OF,
  HISTORY_TURNS,
  historyBudget,
  historyTurnsOf,
  PROMPT,
  runLoad,
  serverEnv,
  type TargetName,
  targetSpec,
} from "./scenario.js";
import { type ServerProcess, startServer } from "./server-process.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.resolve(here, "..");
const repoRoot = path.resolve(benchDir, "../..");

// `pnpm bench -- --quick` hands the script a leading "--".
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();

const { values: flags } = parseCli(
  "pnpm bench [options]: the server's own cost against a fast fake upstream and a bare Node hop; writes BENCHMARKS.md's generated section",
  {
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      targets: { type: "string" },
      concurrency: { type: "string" },
      sections: { type: "string" },
      label: { type: "string" },
      profile: { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      /** Extra node flags for the server, e.g. "--max-semi-space-size=4". */
      "node-options": { type: "string", default: "" },
      server: { type: "string", default: path.join(repoRoot, "apps/server/dist/main.js") },
      "no-write": { type: "boolean", default: false },
    },
  },
);

const list = (value: string | undefined, all: readonly string[]): string[] =>
  value === undefined
    ? [...all]
    : value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => all.includes(s));

const targets = list(flags.targets, ALL_TARGETS) as TargetName[];
const concurrencyLevels = list(flags.concurrency, ["1", "16", "64"]).map(Number);
const sections = list(flags.sections, ["throughput", "streaming", "breakdown", "memory"]);
const filtered = flags.targets !== undefined || flags.concurrency !== undefined || flags.sections !== undefined;
const logLevel = flags["log-level"] ?? "info";
const warmupMs = flags.quick ? 500 : 1500;
const durationMs = flags.quick ? 1000 : 3000;
const resultsDir = path.join(benchDir, "results");

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function describeRun(run: RunRecord): string {
  const cpu = cpuPerRequest(run);
  const r = run.result;
  return `${run.target} c=${run.concurrency}: ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.latency.p50Ms.toFixed(3)} ms, p99 ${r.latency.p99Ms.toFixed(3)} ms${
    cpu === undefined ? "" : `, ${cpu.toFixed(0)} µs CPU/req (${run.costOf})`
  }${r.errors > 0 ? `, ${r.errors} errors (${r.firstError})` : ""}`;
}

async function main(): Promise<number> {
  const started = Date.now();
  const budget = await historyBudget(HISTORY_TURNS);
  mkdirSync(resultsDir, { recursive: true });
  const children: Child[] = [];
  let server: ServerProcess | undefined;
  const throughput: RunRecord[] = [];
  const streaming: RunRecord[] = [];
  const memory: MemoryResult[] = [];
  const instant: RunRecord[] = [];
  let components: ComponentResult[] = [];
  let idleRss: number | undefined;
  let idleCpuMicrosPerSecond: number | undefined;
  let afterRss: number | undefined;
  let upstreamBodyBytes = 0;
  let failure: string | undefined;
  try {
    const needServer =
      sections.includes("streaming") ||
      sections.includes("breakdown") ||
      (sections.includes("throughput") && targets.length > 0);
    if (needServer) {
      const upstream = await startChild({ bundle: "upstream-main.js" });
      children.push(upstream);
      const upstreamOrigin = String(upstream.ready.origin);
      const hop = await startChild({ bundle: "hop-main.js", args: ["--upstream", upstreamOrigin] });
      children.push(hop);
      const hopOrigin = String(hop.ready.origin);

      const profileDir = path.join(resultsDir, "profiles");
      if (flags.profile) mkdirSync(profileDir, { recursive: true });
      server = await startServer({
        bin: flags.server,
        grpcPort: await freePort(),
        httpPort: await freePort(),
        execArgv: [
          ...(flags["node-options"] ?? "").split(" ").filter((s) => s !== ""),
          ...(flags.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
        ],
        env: serverEnv({ upstreamOrigin, budget, logLevel }),
      });
      log(
        `server pid ${server.pid} on ${server.grpcAddress} and ${server.httpOrigin}; upstream ${upstreamOrigin}; hop ${hopOrigin}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      idleRss = readRssBytes(server.pid);
      // What the server costs while nobody talks to it (timers, the sweep), over a few seconds.
      const idleFrom = { cpu: readCpuMicros(server.pid), at: performance.now() };
      await new Promise((resolve) => setTimeout(resolve, flags.quick ? 1000 : 3000));
      idleCpuMicrosPerSecond = ((readCpuMicros(server.pid) - idleFrom.cpu) * 1000) / (performance.now() - idleFrom.at);
      log(`idle RSS ${(idleRss / 2 ** 20).toFixed(1)} MiB, idle CPU ${idleCpuMicrosPerSecond.toFixed(0)} µs/s`);
      const watch = { server: server.pid, upstream: upstream.pid, hop: hop.pid };
      const origins = { grpcAddress: server.grpcAddress, httpOrigin: server.httpOrigin, upstreamOrigin, hopOrigin };

      if (sections.includes("throughput") && targets.length > 0) {
        // Prime one session to the steady state, and take its upstream request for the references.
        await runLoad({
          target: targetSpec("grpc", { ...origins, body: "" }),
          concurrency: 1,
          warmupMs: 0,
          durationMs: 500,
          watch: {},
        });
        const last = await upstream.ask({ type: "last-body" }, "last-body", 5000);
        const body = typeof last.body === "string" ? last.body : "";
        if (body === "") throw new Error("the server sent nothing upstream while priming");
        upstreamBodyBytes = Buffer.byteLength(body);
        const turns = historyTurnsOf(body);
        log(`steady-state upstream request: ${upstreamBodyBytes} bytes, ${turns} turns of history`);
        if (turns !== HISTORY_TURNS)
          throw new Error(`the steady state holds ${turns} turns, not ${HISTORY_TURNS}: fix historyBudget`);
        for (const concurrency of concurrencyLevels) {
          for (const target of targets) {
            const result = await runLoad({
              target: targetSpec(target, { ...origins, body }),
              concurrency,
              warmupMs,
              durationMs,
              watch,
            });
            const run: RunRecord = { target, concurrency, costOf: COST_OF[target], result };
            throughput.push(run);
            log(describeRun(run));
            if (flags.profile)
              log(`  profile window: --window ${result.windowMonotonicMicros.join(",")} --per ${result.requests}`);
          }
        }
      }

      if (sections.includes("streaming")) {
        const accessToken = (base: string) =>
          JSON.stringify({ version: 1, access_token: ACCESS_TOKEN, base_url: base });
        const apiKey = (base: string) => JSON.stringify({ version: 3, api_key: API_KEY, base_url: base });
        const scenarios = [
          { target: "stream-burst", config: accessToken(`${upstreamOrigin}/stamp/backend-api`), concurrency: 1 },
          { target: "stream-burst", config: accessToken(`${upstreamOrigin}/stamp/backend-api`), concurrency: 16 },
          {
            target: "stream-trickle",
            config: accessToken(`${upstreamOrigin}/stamp/trickle-2/backend-api`),
            concurrency: 1,
          },
          // The API-key backend, if it reads a stream (the fake streams when the request says `stream: true`).
          { target: "stream-openai", config: apiKey(`${upstreamOrigin}/stamp/v1`), concurrency: 1 },
        ];
        for (const s of scenarios) {
          const result = await runLoad({
            target: { kind: "grpc", address: server.grpcAddress, sessionConfig: s.config, prompt: PROMPT },
            concurrency: s.concurrency,
            warmupMs,
            durationMs,
            watch,
          });
          const run: RunRecord = { target: s.target, concurrency: s.concurrency, costOf: "server", result };
          streaming.push(run);
          if (flags.profile)
            log(`  profile window: --window ${result.windowMonotonicMicros.join(",")} --per ${result.requests}`);
          const first = result.extra.firstEventToReply;
          log(
            `${describeRun(run)}${first ? `, first event → reply p50 ${first.p50Ms.toFixed(3)} ms` : ", no stamps in the reply"}`,
          );
        }
      }
      afterRss = readRssBytes(server.pid);

      if (sections.includes("breakdown")) {
        const env = serverEnv({ upstreamOrigin, budget, logLevel });
        const fake = await startChild({
          bundle: "instant-server-main.js",
          env,
          execArgv: flags.profile ? ["--cpu-prof", "--cpu-prof-dir", path.join(resultsDir, "profiles")] : [],
        });
        children.push(fake);
        const fakeOrigins = {
          grpcAddress: String(fake.ready.grpcAddress),
          httpOrigin: String(fake.ready.httpOrigin),
          upstreamOrigin,
          hopOrigin,
        };
        for (const target of ["grpc", "connect", "ask"] as const) {
          const result = await runLoad({
            target: targetSpec(target, { ...fakeOrigins, body: "" }),
            concurrency: 16,
            warmupMs,
            durationMs,
            watch: { server: fake.pid },
          });
          const run: RunRecord = { target, concurrency: 16, costOf: "server", result };
          instant.push(run);
          log(`instant backend: ${describeRun(run)}`);
          if (flags.profile)
            log(`  profile window: --window ${result.windowMonotonicMicros.join(",")} --per ${result.requests}`);
        }
        await fake.stop();
        const parts = await startChild({
          bundle: "components-main.js",
          args: ["--upstream", upstreamOrigin, ...(flags.quick ? ["--quick"] : [])],
          readyTimeoutMs: 120_000,
        });
        components = parts.ready.results as ComponentResult[];
        await parts.stop();
        for (const c of components) log(`component ${c.name}: ${c.cpuMicrosPerOperation.toFixed(1)} µs CPU/op`);
      }
    }

    if (sections.includes("memory")) {
      for (const sessions of [1000, 10_000]) {
        const child = await startChild({
          bundle: "memory-main.js",
          args: ["--sessions", String(sessions), "--turns", String(HISTORY_TURNS)],
          execArgv: ["--expose-gc"],
          readyTimeoutMs: 120_000,
        });
        const result = child.ready.result as MemoryResult;
        await child.stop();
        memory.push(result);
        log(
          `memory ${sessions} × ${HISTORY_TURNS}: heap ${(result.heapPerSessionBytes / 1024).toFixed(2)} KiB/session ` +
            `(${(result.heapOverheadPerSessionBytes / 1024).toFixed(2)} beyond text), RSS ${(result.rssPerSessionBytes / 1024).toFixed(2)} KiB/session`,
        );
      }
    }
  } catch (error) {
    failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`failed: ${failure}`);
  } finally {
    if (server !== undefined) {
      const code = await server.stop();
      if (code !== 0) log(`the server exited with ${code}:\n${server.stderrTail()}`);
    }
    for (const child of children.reverse()) await child.stop();
  }

  const command = `pnpm bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      command,
      machine: machineInfo(),
      quick: flags.quick,
      warmupMs,
      durationMs,
      historyTurns: HISTORY_TURNS,
      historyBudgetTokens: budget,
      prompt: PROMPT,
      logLevel,
      upstreamBodyBytes,
    },
    idleRssBytes: idleRss,
    idleCpuMicrosPerSecond,
    rssAfterLoadBytes: afterRss,
    throughput,
    streaming,
    memory,
    instant,
    components,
    failure,
  };
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(path.join(resultsDir, filtered ? "partial.json" : "latest.json"), json);
  if (flags.label !== undefined) writeFileSync(path.join(resultsDir, `${flags.label}.json`), json);
  const errors = [...throughput, ...streaming].filter((r) => r.result.errors > 0);
  if (failure === undefined && errors.length === 0 && !filtered && !flags["no-write"]) {
    const file = path.join(repoRoot, "BENCHMARKS.md");
    let existing: string | undefined;
    try {
      existing = readFileSync(file, "utf8");
    } catch {
      existing = undefined;
    }
    writeFileSync(file, spliceResults(existing, renderResults(results)));
    log(`wrote ${path.relative(repoRoot, file)}`);
  }
  for (const check of checkTargets(results)) {
    log(
      `target ${check.met === undefined ? "–  " : check.met ? "ok " : "NO "} ${check.target}: ${check.measured ?? "not measured"} (${check.limit})`,
    );
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (errors.length > 0)
    log(
      `runs with errors: ${errors.map((r) => `${r.target} c=${r.concurrency}`).join(", ")}; BENCHMARKS.md left as it was`,
    );
  return failure === undefined && errors.length === 0 ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 1;
});
