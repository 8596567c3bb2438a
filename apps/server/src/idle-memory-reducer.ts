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
 * Under load it keeps the old generation near the live heap while that is
 * small: V8 lets it reach about 128 MB before its first full GC, and then
 * about three times the live heap, and on this server what fills it is
 * promoted garbage (live: 25-40 MB). An ordinary full GC runs when old space
 * holds more than max(OLD_GC_FLOOR_BYTES, OLD_GC_GROWTH x what was live after
 * the previous one), checked every second; only while the live heap is under
 * OWN_GC_BELOW_LIVE_BYTES, where such a pause is a few tens of ms. A bigger
 * heap (many sessions with long histories) is V8's alone, with its incremental
 * marking. No limit is imposed: nothing fails when the heap must grow.
 */
import { performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "@chatgptchatbot/core";

/** Default CHATBOT_IDLE_GC_AFTER: quiet time before the heap is given back. */
export const DEFAULT_IDLE_GC_AFTER_MS = 30_000;
/** A check window with no session call is still busy at this event-loop utilization (0..1) or more. */
export const BUSY_UTILIZATION = 0.5;
/** Old space (live + garbage) under which no full GC is started here. */
export const OLD_GC_FLOOR_BYTES = 48 * 2 ** 20;
/** A full GC is started here when old space passes this multiple of what was live after the previous one. */
export const OLD_GC_GROWTH = 1.5;
/** Above this live old space (after a GC), full GCs under load are left to V8. */
export const OWN_GC_BELOW_LIVE_BYTES = 128 * 2 ** 20;
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
  collectFull = ordinaryFullGc,
  oldGeneration = oldGenerationBytes,
  utilization = eventLoopUtilizationSampler(),
  checkEveryMs = Math.min(CHECK_EVERY_MS, idleAfterMs),
}: {
  idleAfterMs: number;
  logger: Logger;
  /** The memory-reducing GC (tests: a spy). */
  collect?: () => void;
  /** The ordinary full GC under load (tests: a spy). */
  collectFull?: () => void;
  /** Old space in use in bytes, live and garbage (tests: scripted). */
  oldGeneration?: () => number;
  /** Utilization since the previous call, 0..1 (tests: scripted). */
  utilization?: () => number;
  checkEveryMs?: number;
}): IdleMemoryReducer {
  if (idleAfterMs <= 0) return { noteCall() {}, stop() {} };
  // The start itself allocated (modules, the first calls): worth one reduction once quiet.
  let busySinceReduced = true;
  let quietMs = 0;
  let called = false;
  let liveAfterGc = 0; // old space in use right after the last full GC started here (0: none yet)
  const run = (gc: () => void, message: string): boolean => {
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    try {
      gc();
    } catch (error) {
      // Not worth a crash: the server works without it.
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "idle memory reducer: the GC failed",
      );
      return false;
    }
    logger.debug(
      {
        ms: Math.round(performance.now() - started),
        rssBeforeMiB: mib(rssBefore),
        rssAfterMiB: mib(process.memoryUsage.rss()),
      },
      message,
    );
    return true;
  };
  const timer = setInterval(() => {
    const old = oldGeneration();
    if (liveAfterGc < OWN_GC_BELOW_LIVE_BYTES && old > Math.max(OLD_GC_FLOOR_BYTES, OLD_GC_GROWTH * liveAfterGc)) {
      if (run(collectFull, "full GC: old space full of garbage")) liveAfterGc = oldGeneration();
      else liveAfterGc = OWN_GC_BELOW_LIVE_BYTES; // failed: leave it to V8 from now on
    }
    const busyLoop = utilization() >= BUSY_UTILIZATION; // sampled every window, so each covers one window only
    if (called || busyLoop) {
      called = false;
      busySinceReduced = true;
      quietMs = 0;
      return;
    }
    quietMs += checkEveryMs;
    if (!busySinceReduced || quietMs < idleAfterMs) return;
    busySinceReduced = false; // also after a failure: said once, then off until the next busy spell
    run(collect, "idle: heap given back to the system");
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

/** Old space in use (live and garbage), the part of V8's old generation that fills with promoted garbage. */
function oldGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ?? 0;
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

/** An ordinary full GC (V8 then sizes the old generation from what is live). */
export function ordinaryFullGc(): void {
  gcFn()({ type: "major", execution: "sync" });
}
