/**
 * Polls the program's health checks (gRPC `grpc.health.v1.Health/Check` and
 * HTTP `GET /healthz`) concurrently with whatever a test does, and records
 * how long each answer took. The poller runs in a worker thread: its own event
 * loop, so the test's own work (generating megabytes of input, say) cannot
 * delay a poll and be blamed on the server.
 */
import { Worker } from "node:worker_threads";

export interface HealthSample {
  readonly check: "grpc" | "http";
  /** ms since the poller started. */
  readonly at: number;
  readonly ms: number;
  /** Undefined when the check answered healthy. */
  readonly error?: string;
}

export interface HealthReport {
  readonly polls: number;
  /** How many checks were slow or unhealthy (all of them, while \`bad\` keeps the first 50). */
  readonly badCount: number;
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
const { grpcUrl, httpUrl, intervalMs, boundMs, timeoutMs } = workerData;
const started = performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
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
function httpCheck() {
  return timed((finish) => {
    const req = http.get(httpUrl + "/healthz", { agent }, (res) => {
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
function record(check, sample) {
  maxMs[check] = Math.max(maxMs[check], sample.ms);
  if (sample.error === undefined && sample.ms <= boundMs) return;
  badCount++;
  if (bad.length < 50) bad.push({ check, ...sample });
}
function report() { return { polls, badCount, maxMs: { ...maxMs }, bad: bad.slice() }; }
parentPort.on("message", (message) => {
  if (message === "report") parentPort.postMessage(report());
  if (message === "stop") stopping = true;
});
(async () => {
  // One unrecorded round first: connection set-up is not the server's latency.
  await Promise.all([grpcCheck(), httpCheck()]);
  parentPort.postMessage("ready");
  while (!stopping) {
    const [g, h] = await Promise.all([grpcCheck(), httpCheck()]);
    polls++;
    record("grpc", g);
    record("http", h);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  session?.close();
  agent.destroy();
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
  intervalMs = 25,
  boundMs = 100,
  timeoutMs = 5_000,
}: {
  grpcUrl: string;
  httpUrl: string;
  intervalMs?: number;
  /** A check slower than this is recorded in `bad`. */
  boundMs?: number;
  /** A check unanswered this long is recorded as failed, and the poll goes on. */
  timeoutMs?: number;
}): Promise<HealthPoller> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { grpcUrl, httpUrl, intervalMs, boundMs, timeoutMs } });
  const waiting: ((report: HealthReport) => void)[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  worker.on("message", (message: "ready" | HealthReport) => {
    if (message === "ready") onReady();
    else waiting.shift()?.(message);
  });
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  failed.catch(() => {}); // surfaced through report()/stop()
  await Promise.race([ready, failed]);
  const ask = (message: "report" | "stop"): Promise<HealthReport> => {
    const answer = new Promise<HealthReport>((resolve) => waiting.push(resolve));
    worker.postMessage(message);
    return Promise.race([answer, failed]);
  };
  return {
    report: () => ask("report"),
    async stop() {
      const last = await ask("stop");
      await worker.terminate();
      return last;
    },
  };
}
