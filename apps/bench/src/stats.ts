/**
 * Latency statistics for the load generator: a growable sample buffer and
 * exact percentiles (nearest-rank) over it. A bounded run records at most a
 * few hundred thousand samples, so keeping them all is cheaper and simpler
 * than a histogram and gives exact figures.
 */

/** Records latencies (milliseconds) into a growable Float64Array. */
export class LatencyRecorder {
  #samples: Float64Array;
  #count = 0;

  constructor({ initialCapacity = 16_384 }: { initialCapacity?: number } = {}) {
    this.#samples = new Float64Array(Math.max(1, initialCapacity));
  }

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  /** The samples so far, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.#samples.slice(0, this.#count).sort();
  }

  summary(): LatencySummary {
    return summarize(this.sorted());
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * The nearest-rank percentile of ascending samples: the smallest sample with
 * at least `q` of all samples at or below it. NaN for no samples.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be within [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * n));
  return sorted[rank - 1]!;
}

/** Count, mean, p50, p99 and max of ascending samples. */
export function summarize(sorted: ArrayLike<number>): LatencySummary {
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  const n = sorted.length;
  return {
    count: n,
    meanMs: n === 0 ? Number.NaN : sum / n,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: n === 0 ? Number.NaN : sorted[n - 1]!,
  };
}
