/** What the parent asks a load worker to do, and what it answers. */
import type { ClosedLoopResult } from "./closed-loop.js";
import type { TargetSpec } from "./targets.js";

export interface LoadJob {
  readonly target: TargetSpec;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Processes whose CPU time to measure over the window, by name. */
  readonly watch: Readonly<Record<string, number>>;
}

export interface LoadResult extends ClosedLoopResult {
  /** CPU µs each watched process spent in the window. */
  readonly cpuMicros: Readonly<Record<string, number>>;
  /** RSS of each watched process at the window's end, in bytes. */
  readonly rssBytes: Readonly<Record<string, number>>;
  /** CPU µs this load generator spent in the window. */
  readonly loadGeneratorCpuMicros: number;
  /** Busy CPU µs of the whole machine (every core, every process) in the window. */
  readonly machineBusyMicros: number;
  /**
   * The window's edges on the system-wide monotonic clock, in µs: the time
   * base of V8 CPU profiles, so `profile-summary --window` can cut a profile to it.
   */
  readonly windowMonotonicMicros: readonly [number, number];
}
