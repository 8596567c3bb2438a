/**
 * A closed-loop load: `concurrency` workers, each sending its next request as
 * soon as its last one is answered, first for a warmup (not recorded), then
 * for a measured window. The window's edges call `onWindow` so the caller can
 * read CPU counters exactly there; only requests that finish inside the
 * window are counted.
 */
import { LatencyRecorder, type LatencySummary } from "./stats.js";

/** One request; `worker` is the worker's index (0 ≤ worker < concurrency). It may return extra timings in ms. */
// biome-ignore lint/suspicious/noConfusingVoidType: a call that has no extra timings is an async function that returns nothing.
export type LoadCall = (worker: number) => Promise<Readonly<Record<string, number>> | void>;

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly call: LoadCall;
  /** Called at the start and at the end of the measured window. */
  readonly onWindow?: (edge: "start" | "end") => void;
  /** Stop early after this many errors (default 100): numbers from a failing target mean nothing. */
  readonly maxErrors?: number;
}

export interface ClosedLoopResult {
  /** Requests that succeeded inside the window. */
  readonly requests: number;
  readonly errors: number;
  /** The first error's message, if any. */
  readonly firstError: string | undefined;
  /** The window's length, in ms (as measured). */
  readonly windowMs: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  /** Summaries of the extra timings calls returned, by name. */
  readonly extra: Readonly<Record<string, LatencySummary>>;
}

export async function runClosedLoop({
  concurrency,
  warmupMs,
  durationMs,
  call,
  onWindow,
  maxErrors = 100,
}: ClosedLoopOptions): Promise<ClosedLoopResult> {
  if (!(Number.isInteger(concurrency) && concurrency > 0))
    throw new RangeError(`concurrency must be a whole number > 0`);
  const latency = new LatencyRecorder();
  const extra = new Map<string, LatencyRecorder>();
  let phase = "warmup" as "warmup" | "measure" | "done";
  let errors = 0;
  let firstError: string | undefined;
  let windowStart = 0;
  let windowEnd = 0;
  let windowOpened = false;

  const warmupTimer = setTimeout(() => {
    onWindow?.("start");
    windowStart = performance.now();
    windowOpened = true;
    phase = "measure";
    measureTimer = setTimeout(() => {
      windowEnd = performance.now();
      phase = "done";
      onWindow?.("end");
    }, durationMs);
  }, warmupMs);
  let measureTimer: NodeJS.Timeout | undefined;

  const worker = async (index: number): Promise<void> => {
    while (phase !== "done" && errors < maxErrors) {
      const started = performance.now();
      try {
        const timings = await call(index);
        const finished = performance.now();
        // Counted when it finishes inside the window (the CPU read at the
        // window's edges is spent on the requests in flight there, too).
        if (phase === "measure") {
          latency.record(finished - started);
          if (timings) {
            for (const [name, ms] of Object.entries(timings)) {
              let recorder = extra.get(name);
              if (recorder === undefined) {
                recorder = new LatencyRecorder({ initialCapacity: 1024 });
                extra.set(name, recorder);
              }
              recorder.record(ms);
            }
          }
        }
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  clearTimeout(warmupTimer);
  clearTimeout(measureTimer);
  if (phase !== "done") {
    // Stopped early by errors.
    windowEnd = performance.now();
    if (phase === "measure") onWindow?.("end");
    phase = "done";
  }
  const windowMs = windowOpened ? windowEnd - windowStart : 0;
  return {
    requests: latency.count,
    errors,
    firstError,
    windowMs,
    requestsPerSecond: windowMs > 0 ? (latency.count * 1000) / windowMs : 0,
    latency: latency.summary(),
    extra: Object.fromEntries([...extra].map(([name, recorder]) => [name, recorder.summary()])),
  };
}
