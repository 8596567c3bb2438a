/**
 * Polls the program's health checks (gRPC `grpc.health.v1.Health/Check` and
 * HTTP `GET /healthz`) concurrently with whatever a test does, and records
 * how long each answer took. The poller runs in a worker thread: its own event
 * loop, so the test's own work (generating megabytes of input, say) cannot
 * delay a poll and be blamed on the server.
 *
 * On a shared machine (2 cores, load average 20+ while other suites build) a
 * process gets a fraction of a core, so wall-clock latency alone measures the
 * machine. Each round therefore also asks a control (a trivial HTTP server in
 * a process of its own) at the same moment, and reads the program's CPU time
 * (/proc/PID/stat) around the round. A check counts as slow when it took
 * `boundMs` longer than the control's answer AND the program spent more than
 * `boundMs` of CPU in that round: the program itself was busy, not waiting
 * for a core. A stalled event loop (issue 10: seconds of tokenizing) is both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { Worker } from "node:worker_threads";

export interface HealthSample {
  readonly check: "grpc" | "http";
  /** ms since the poller started. */
  readonly at: number;
  readonly ms: number;
  /** How long the control process took to answer at the same moment. */
  readonly controlMs: number;
  /** CPU time the program spent during the round (10 ms resolution). */
  readonly cpuMs: number;
  /** Undefined when the check answered healthy. */
  readonly error?: string;
}

export interface HealthReport {
  readonly polls: number;
  /** How many checks were slow or unhealthy (all of them, while \`bad\` keeps the first 50). */
  readonly badCount: number;
  /** Largest time over the control's, per check. */
  readonly maxMs: { grpc: number; http: number };
  /** Checks slower than the bound or unhealthy, in order (at most 50 kept). */
  readonly bad: HealthSample[];
}

// Plain JavaScript, evaluated as the worker's script (a worker cannot load a
// .ts file). A raw HTTP/2 request keeps the gRPC check free of client-library
// work: an empty HealthCheckRequest is the 5-byte frame 00 00000000.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http2 = require("node:http2");
const http = require("node:http");
const { grpcUrl, httpUrl, controlUrl, pid, clockTicks, intervalMs, boundMs, timeoutMs } = workerData;
const fs = require("node:fs");
function cpuMs() {
  try {
    // Fields after the ")" of the command name: state is 3rd, utime 14th, stime 15th of the whole line.
    const fields = fs.readFileSync("/proc/" + pid + "/stat", "utf8").split(")").pop().trim().split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return Number.POSITIVE_INFINITY; // unknown: every slow check counts
  }
}
const started = performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const controlAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let session;
function grpcSession() {
  if (session === undefined || session.closed || session.destroyed) {
    session = http2.connect(grpcUrl);
    session.on("error", () => {});
  }
  return session;
}
function timed(run) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ at: Math.round(t0 - started), ms: performance.now() - t0, error });
    };
    const timer = setTimeout(() => finish("no answer within " + timeoutMs + " ms"), timeoutMs);
    run(finish);
  });
}
function grpcCheck() {
  return timed((finish) => {
    const req = grpcSession().request({
      ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers",
    });
    let status;
    req.on("response", (h) => { if (h["grpc-status"] !== undefined) status = h["grpc-status"]; });
    req.on("trailers", (t) => { status = t["grpc-status"]; });
    req.on("data", () => {});
    req.on("end", () => finish(status === "0" ? undefined : "grpc-status " + status));
    req.on("error", (e) => finish(e.message));
    req.end(Buffer.alloc(5));
  });
}
function httpCheck(url = httpUrl + "/healthz", via = agent) {
  return timed((finish) => {
    const req = http.get(url, { agent: via }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { body += c; });
      res.on("end", () => finish(res.statusCode === 200 && body === "ok" ? undefined : "HTTP " + res.statusCode));
    });
    req.on("error", (e) => finish(e.message));
  });
}
let polls = 0;
let badCount = 0;
const maxMs = { grpc: 0, http: 0 };
const bad = [];
let stopping = false;
function record(check, sample, control, cpu) {
  const excess = sample.ms - control.ms;
  maxMs[check] = Math.max(maxMs[check], excess);
  if (sample.error === undefined && (excess <= boundMs || cpu <= boundMs)) return;
  badCount++;
  if (bad.length < 50) bad.push({ check, ...sample, controlMs: control.ms, cpuMs: cpu });
}
function report() { return { polls, badCount, maxMs: { ...maxMs }, bad: bad.slice() }; }
parentPort.on("message", (message) => {
  if (message === "report") parentPort.postMessage(report());
  if (message === "stop") stopping = true;
});
(async () => {
  // One unrecorded round first: connection set-up is not the server's latency.
  await Promise.all([grpcCheck(), httpCheck(), httpCheck(controlUrl, controlAgent)]);
  parentPort.postMessage("ready");
  while (!stopping) {
    const cpuBefore = cpuMs();
    const [g, h, c] = await Promise.all([grpcCheck(), httpCheck(), httpCheck(controlUrl, controlAgent)]);
    const cpu = cpuMs() - cpuBefore;
    polls++;
    record("grpc", g, c, cpu);
    record("http", h, c, cpu);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  session?.close();
  agent.destroy();
  controlAgent.destroy();
  parentPort.postMessage(report());
})();
`;

export interface HealthPoller {
  /** What was recorded so far. */
  report(): Promise<HealthReport>;
  /** Stops polling and returns the whole record. */
  stop(): Promise<HealthReport>;
}

export async function startHealthPoller({
  grpcUrl,
  httpUrl,
  pid,
  clockTicks = 100,
  intervalMs = 25,
  boundMs = 100,
  timeoutMs = 5_000,
}: {
  grpcUrl: string;
  httpUrl: string;
  /** The program's process id, for its CPU time. */
  pid: number;
  /** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`: 100 on Linux). */
  clockTicks?: number;
  intervalMs?: number;
  /** A check slower than the control's answer by more than this is recorded in `bad`. */
  boundMs?: number;
  /** A check unanswered this long is recorded as failed, and the poll goes on. */
  timeoutMs?: number;
}): Promise<HealthPoller> {
  const control = await startControl();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { grpcUrl, httpUrl, controlUrl: control.url, pid, clockTicks, intervalMs, boundMs, timeoutMs },
  });
  const waiting: ((report: HealthReport) => void)[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  worker.on("message", (message: "ready" | HealthReport) => {
    if (message === "ready") onReady();
    else waiting.shift()?.(message);
  });
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  failed.catch(() => {}); // surfaced through report()/stop()
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    control.child.kill();
    throw error;
  }
  const ask = (message: "report" | "stop"): Promise<HealthReport> => {
    const answer = new Promise<HealthReport>((resolve) => waiting.push(resolve));
    worker.postMessage(message);
    return Promise.race([answer, failed]);
  };
  return {
    report: () => ask("report"),
    async stop() {
      try {
        return await ask("stop");
      } finally {
        await worker.terminate();
        control.child.kill();
      }
    },
  };
}

/** The control: `GET /` → "ok" from a process that does nothing else. */
async function startControl(): Promise<{ child: ChildProcess; url: string }> {
  const source =
    'const s = require("node:http").createServer((q, r) => r.end("ok"));' +
    's.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));' +
    'process.stdin.on("end", () => process.exit(0)); process.stdin.resume();'; // exits with its parent
  const child = spawn(process.execPath, ["-e", source], { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, url: `http://127.0.0.1:${chunk.toString("utf8").trim()}/` };
}
