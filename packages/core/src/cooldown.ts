/**
 * A minimum interval between two consecutive upstream requests per
 * credential. Sessions sharing a credential share its budget; sessions with
 * different credentials never slow each other (which is how several access
 * tokens multiply capacity).
 */
export class Cooldown {
  /** credential → time (ms) of its last upstream request. */
  readonly #lastUse = new Map<string, number>();
  readonly #now: () => number;

  constructor({ now = () => Date.now() }: { now?: () => number } = {}) {
    this.#now = now;
  }

  /**
   * Takes the first credential that is not cooling down and records its use
   * now. An interval of 0 (or less) disables the cooldown.
   *
   * @returns the credential taken, or how long until the soonest one is free.
   */
  acquire(
    credentials: readonly string[],
    intervalMs: number,
  ): { ok: true; credential: string } | { ok: false; retryAfterMs: number } {
    const now = this.#now();
    if (intervalMs <= 0) {
      const credential = credentials[0];
      if (credential === undefined) throw new RangeError("no credentials");
      return { ok: true, credential };
    }
    let soonest = Number.POSITIVE_INFINITY;
    for (const credential of credentials) {
      const last = this.#lastUse.get(credential);
      const wait = last === undefined ? 0 : last + intervalMs - now;
      if (wait <= 0) {
        this.#lastUse.set(credential, now);
        return { ok: true, credential };
      }
      soonest = Math.min(soonest, wait);
    }
    if (!Number.isFinite(soonest)) throw new RangeError("no credentials");
    return { ok: false, retryAfterMs: soonest };
  }

  /** Forgets credentials idle longer than `olderThanMs` (keeps the map small). */
  prune(olderThanMs: number): void {
    const cutoff = this.#now() - olderThanMs;
    for (const [credential, last] of this.#lastUse) if (last < cutoff) this.#lastUse.delete(credential);
  }

  /** How many credentials are tracked. */
  get size(): number {
    return this.#lastUse.size;
  }
}
