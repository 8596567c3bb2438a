/**
 * Gives V8's heap back to the system once the server has gone quiet (issue 10,
 * BENCHMARKS.md "Memory under hostile input").
 *
 * Under a high allocation rate V8 grows its young generation and lets the old
 * one fill with garbage before it collects; afterwards it keeps the pages
 * (committed new space, pooled old-space pages) while the process idles, so RSS
 * stays at its peak although the live heap is a few MB. No ordinary GC gives
 * them back: only a memory-reducing one does, which Node exposes as
 * `gc({ flavor: "last-resort" })` (V8's CollectAllAvailableGarbage: shrinks new
 * space, releases pooled pages). This runs one such GC after `idleAfterMs` of
 * quiet, and again only after the next busy spell, so an idle server pays for
 * it once and a busy one never.
 *
 * A check window is busy when a session call was noted in it (`noteCall`:
 * NewSession and every chat turn, whatever the transport) or when the event
 * loop was busy at least BUSY_UTILIZATION of it (a flood of requests that
 * never reach a session: malformed bodies, bad frames). Health checks are
 * neither: probed every 25 ms on this machine they keep the loop 8-20 % busy,
 * and the heap still has plenty to give back. The GC is one pause of a few
 * tens of ms on a small heap, when no session call has come for idleAfterMs.
 *
 * Under load the heap is V8's alone: an ordinary full GC started here every
 * time old space grew past 1.5 x the live heap kept RSS under load lower, but
 * cost about a quarter of the CPU per chat (BENCHMARKS.md, issue 16); the
 * idle GC gives the memory back all the same once the load has passed.
 */
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "@chatgptchatbot/core";

/** Default CHATBOT_IDLE_GC_AFTER: quiet time before the heap is given back. */
export const DEFAULT_IDLE_GC_AFTER_MS = 30_000;
/** A check window with no session call is still busy at this event-loop utilization (0..1) or more. */
export const BUSY_UTILIZATION = 0.5;
/**
 * Quiet time after the start before the first reduction: loading the program
 * (modules, the stores, the first compilations) grew the young generation to
 * its maximum, which an idle server should not keep for half a minute.
 */
export const START_QUIET_MS = 5_000;
/** How often utilization is sampled (at most; never longer than idleAfterMs). */
const CHECK_EVERY_MS = 1_000;

export interface IdleMemoryReducer {
  /** A session call started (cheap: a flag). */
  noteCall(): void;
  /** Stops the checks (at shutdown); never collects afterwards. */
  stop(): void;
}

/**
 * Starts the checks; `idleAfterMs` 0 starts nothing. The timer is unref'd: it
 * never keeps the process alive.
 */
export function startIdleMemoryReducer({
  idleAfterMs,
  logger,
  collect = memoryReducingGc,
  startQuietMs = Math.min(START_QUIET_MS, idleAfterMs),
  utilization = eventLoopUtilizationSampler(),
  checkEveryMs = Math.min(CHECK_EVERY_MS, idleAfterMs),
}: {
  idleAfterMs: number;
  logger: Logger;
  /** The memory-reducing GC (tests: a spy). */
  collect?: () => void;
  /** Quiet time before the first reduction, while no busy window has come since the start. */
  startQuietMs?: number;
  /** Utilization since the previous call, 0..1 (tests: scripted). */
  utilization?: () => number;
  checkEveryMs?: number;
}): IdleMemoryReducer {
  if (idleAfterMs <= 0) return { noteCall() {}, stop() {} };
  // The start itself allocated (modules, the first calls): worth one reduction once quiet.
  let busySinceReduced = true;
  let sinceStart = true; // no busy window yet: the first reduction comes after startQuietMs
  let quietMs = 0;
  let called = false;
  const reduce = (): void => {
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    try {
      collect();
    } catch (error) {
      // Not worth a crash: the server works without it.
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "idle memory reducer: the GC failed",
      );
      return;
    }
    logger.debug(
      {
        ms: Math.round(performance.now() - started),
        rssBeforeMiB: mib(rssBefore),
        rssAfterMiB: mib(process.memoryUsage.rss()),
      },
      "idle: heap given back to the system",
    );
  };
  const timer = setInterval(() => {
    const busyLoop = utilization() >= BUSY_UTILIZATION; // sampled every window, so each covers one window only
    if (called || busyLoop) {
      called = false;
      busySinceReduced = true;
      sinceStart = false;
      quietMs = 0;
      return;
    }
    quietMs += checkEveryMs;
    if (!busySinceReduced || quietMs < (sinceStart ? startQuietMs : idleAfterMs)) return;
    busySinceReduced = false; // also after a failure: said once, then off until the next busy spell
    reduce();
  }, checkEveryMs);
  timer.unref();
  return {
    noteCall: () => {
      called = true;
    },
    stop: () => clearInterval(timer),
  };
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** Event-loop utilization over each interval between calls. */
function eventLoopUtilizationSampler(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}

let gcFunction: NodeJS.GCFunction | undefined;

/**
 * V8's `gc`. Without --expose-gc, the flag is set at run time and `gc` taken
 * from a fresh context (it is only installed in contexts created after the
 * flag); the program's own global gets no `gc`.
 */
function gcFn(): NodeJS.GCFunction {
  if (gcFunction === undefined) {
    if (typeof globalThis.gc === "function") gcFunction = globalThis.gc;
    else {
      setFlagsFromString("--expose-gc");
      gcFunction = runInNewContext("gc") as NodeJS.GCFunction;
    }
  }
  return gcFunction;
}

/** A full GC that also shrinks the young generation and releases pooled pages. */
export function memoryReducingGc(): void {
  gcFn()({ type: "major", execution: "sync", flavor: "last-resort" });
}
