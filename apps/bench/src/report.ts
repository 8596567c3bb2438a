/**
 * Renders a run's results as the markdown section of BENCHMARKS.md, and
 * splices it between the markers there, keeping the hand-written rest (the
 * log of changes with their before/after figures).
 */
import {
  type BenchResults,
  checkTargets,
  cpuPerRequest,
  cpuPerRequestOf,
  type RunRecord,
  unrelatedCores,
} from "./results.js";

export const BEGIN = "<!-- bench:results:begin -->";
export const END = "<!-- bench:results:end -->";

const TARGET_NAMES: Readonly<Record<string, string>> = {
  grpc: "gRPC `Chat` (grpc-js)",
  connect: "Connect `Chat` (HTTP/1.1)",
  ask: "HTTP `POST /ask`",
  direct: "Floor: the fake upstream directly",
  hop: "Reference: bare Node hop (node:http + undici)",
  "stream-burst": "Access-token backend, 16 events at once",
  "stream-trickle": "Access-token backend, 16 events 2 ms apart",
  "stream-openai": "API-key backend, 16 events at once (if it streams)",
};

const n = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value)
    ? "–"
    : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value: number | undefined): string => n(value, value !== undefined && value < 10 ? 3 : 1);
const mib = (bytes: number | undefined): string => (bytes === undefined ? "–" : `${n(bytes / 2 ** 20, 1)} MiB`);
const kib = (bytes: number | undefined): string => (bytes === undefined ? "–" : `${n(bytes / 1024, 2)} KiB`);
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 || Number.isNaN(a) || Number.isNaN(b) ? "–" : `${(a / b).toFixed(2)}×`;

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function table(header: readonly string[], align: string, rows: readonly (readonly string[])[]): string[] {
  return [row(header), `|${align}|`, ...rows.map(row)];
}

function concurrencies(runs: readonly RunRecord[]): number[] {
  return [...new Set(runs.map((r) => r.concurrency))].sort((a, b) => a - b);
}

export function renderResults(results: BenchResults): string {
  const { meta } = results;
  const lines: string[] = [];
  const m = meta.machine;
  lines.push(
    `Measured ${meta.date} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}; Node ${m.node}; commit \`${m.commit}\`.`,
    `Command: \`${meta.command}\`${meta.quick ? " (quick: short windows, figures are rough)" : ""}. Each run: ${meta.warmupMs / 1000} s warmup, then ${meta.durationMs / 1000} s measured; closed loop.`,
    `Every session holds ${meta.historyTurns} turns of history in the steady state (CHATBOT_MAX_TOKENS=${meta.historyBudgetTokens}), so the server's upstream request is ${n(meta.upstreamBodyBytes)} bytes; the floor and the hop replay that exact request. Server log level: \`${meta.logLevel}\` (to /dev/null).`,
    "",
  );

  // Headline: ratios to the two references.
  lines.push("### Headline: the server against the references", "");
  const ratioRows: string[][] = [];
  for (const c of concurrencies(results.throughput)) {
    const direct = results.throughput.find((r) => r.target === "direct" && r.concurrency === c);
    const hop = results.throughput.find((r) => r.target === "hop" && r.concurrency === c);
    const hopCpu = hop && cpuPerRequest(hop);
    for (const run of results.throughput.filter((r) => r.concurrency === c && r.costOf === "server")) {
      ratioRows.push([
        TARGET_NAMES[run.target] ?? run.target,
        String(c),
        `${n(cpuPerRequest(run))} µs`,
        ratio(cpuPerRequest(run), hopCpu),
        ratio(run.result.requestsPerSecond, direct?.result.requestsPerSecond),
        ratio(run.result.requestsPerSecond, hop?.result.requestsPerSecond),
        direct ? `+${ms(run.result.latency.p50Ms - direct.result.latency.p50Ms)}` : "–",
        hop ? `+${ms(run.result.latency.p50Ms - hop.result.latency.p50Ms)}` : "–",
      ]);
    }
  }
  lines.push(
    ...table(
      [
        "Target",
        "Concurrency",
        "Server CPU / request",
        "CPU ÷ hop's",
        "req/s ÷ floor",
        "req/s ÷ hop",
        "p50 over floor (ms)",
        "p50 over hop (ms)",
      ],
      "---|--:|--:|--:|--:|--:|--:|--:",
      ratioRows,
    ),
    "",
  );

  lines.push("### Targets", "");
  lines.push(
    ...table(
      ["Target", "Limit", "Measured", "Met"],
      "---|---|--:|:-:",
      checkTargets(results).map((c) => [
        c.target,
        c.limit,
        c.measured ?? "not measured",
        c.met === undefined ? "–" : c.met ? "yes" : "**no**",
      ]),
    ),
    "",
  );

  lines.push("### Throughput and latency", "");
  lines.push(
    ...table(
      [
        "Target",
        "Concurrency",
        "req/s",
        "p50 (ms)",
        "p99 (ms)",
        "CPU / request",
        "Upstream CPU / request",
        "Load generator CPU / request",
        "Unrelated load (cores)",
        "Errors",
      ],
      "---|--:|--:|--:|--:|--:|--:|--:|--:|--:",
      results.throughput.map((run) => [
        TARGET_NAMES[run.target] ?? run.target,
        String(run.concurrency),
        n(run.result.requestsPerSecond),
        ms(run.result.latency.p50Ms),
        ms(run.result.latency.p99Ms),
        run.costOf === undefined ? "–" : `${n(cpuPerRequest(run))} µs (${run.costOf})`,
        `${n(cpuPerRequestOf(run, "upstream"))} µs`,
        `${n(run.result.requests === 0 ? undefined : run.result.loadGeneratorCpuMicros / run.result.requests)} µs`,
        n(unrelatedCores(run), 2),
        String(run.result.errors),
      ]),
    ),
    "",
    "*Unrelated load*: cores that processes outside the benchmark kept busy during the window (other work on a shared machine); throughput and latency suffer from it, CPU per request much less.",
    "",
    "`/ask` serves the legacy API's one default session, so its requests queue behind each other whatever the concurrency (as in the old service).",
    "",
  );

  if (results.streaming.length > 0) {
    lines.push("### Streaming upstream (event stream relayed into a unary reply)", "");
    lines.push(
      ...table(
        [
          "Scenario",
          "Concurrency",
          "replies/s",
          "First event → reply p50 / p99 (ms)",
          "Last event → reply p50 / p99 (ms)",
          "Server CPU / reply",
        ],
        "---|--:|--:|--:|--:|--:",
        results.streaming.map((run) => {
          const first = run.result.extra.firstEventToReply;
          const last = run.result.extra.lastEventToReply;
          return [
            TARGET_NAMES[run.target] ?? run.target,
            String(run.concurrency),
            n(run.result.requestsPerSecond),
            first ? `${ms(first.p50Ms)} / ${ms(first.p99Ms)}` : "–",
            last ? `${ms(last.p50Ms)} / ${ms(last.p99Ms)}` : "–",
            `${n(cpuPerRequest(run))} µs`,
          ];
        }),
      ),
      "",
      "The fake stamps each event with the monotonic clock when it writes it; the client reads the stamps out of the reply. A unary `Chat` can only answer after the last event, so with events at once the first-event figure is the whole relay cost.",
      "",
    );
  }

  if (results.instant.length > 0 || results.components.length > 0) {
    lines.push("### Where a chat's CPU goes", "");
    const rows: string[][] = [];
    for (const run of results.instant) {
      const whole = results.throughput.find((r) => r.target === run.target && r.concurrency === run.concurrency);
      rows.push([
        `${TARGET_NAMES[run.target] ?? run.target}: the server with a backend answering in-process (transport, logging, pool)`,
        `${n(cpuPerRequest(run))} µs`,
        whole ? `of ${n(cpuPerRequest(whole))} µs for the whole server` : "",
      ]);
    }
    for (const c of results.components)
      rows.push([c.name, `${n(c.cpuMicrosPerOperation, 1)} µs`, "in-process, one layer alone"]);
    lines.push(...table(["Layer", "CPU per chat (c=16)", "Note"], "---|--:|---", rows), "");
  }

  lines.push("### Memory", "");
  lines.push(
    `Server RSS: ${mib(results.idleRssBytes)} idle after start, ${mib(results.rssAfterLoadBytes)} after the load (V8 lets the heap grow under load; see the notes below). ` +
      `Idle CPU: ${results.idleCpuMicrosPerSecond === undefined ? "–" : `${n(results.idleCpuMicrosPerSecond)} µs per second`}.`,
    "",
  );
  if (results.memory.length > 0) {
    lines.push(
      ...table(
        [
          "Sessions × turns",
          "Text / session",
          "Heap used / session",
          "Heap used beyond text",
          "Heap committed / session",
          "RSS / session",
          "RSS beyond text",
        ],
        "---|--:|--:|--:|--:|--:|--:",
        results.memory.map((r) => [
          `${n(r.sessions)} × ${r.turns}`,
          kib(r.textBytesPerSession),
          kib(r.heapPerSessionBytes),
          kib(r.heapOverheadPerSessionBytes),
          kib(r.heapCommittedPerSessionBytes),
          kib(r.rssPerSessionBytes),
          kib(r.rssOverheadPerSessionBytes),
        ]),
      ),
      "",
      "A core `SessionPool` in its own process with an in-process backend, after `gc()`; text is ASCII (1 byte per character).",
      "",
    );
  }
  return lines.join("\n");
}

const TEMPLATE = `# Benchmarks

${BEGIN}
${END}
`;

/** Replaces the generated section of BENCHMARKS.md (creating the file's skeleton if needed). */
export function spliceResults(existing: string | undefined, section: string): string {
  const doc = existing?.includes(BEGIN) && existing.includes(END) ? existing : TEMPLATE;
  const start = doc.indexOf(BEGIN) + BEGIN.length;
  const end = doc.indexOf(END);
  return `${doc.slice(0, start)}\n${section.trimEnd()}\n${doc.slice(end)}`;
}
