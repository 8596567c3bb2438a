import type { TurnLease } from "./coordinator.js";

/** A lease in one process is never lost: one signal that never aborts serves them all. */
const NEVER_LOST = new AbortController().signal;

interface Waiter {
  readonly grant: (lease: TurnLease) => void;
}

interface Line {
  holder: TurnLease | undefined;
  readonly waiters: Waiter[];
}

/**
 * One process's turn order per session: a first-come, first-served lock per
 * session id with fencing tokens. A lease here never expires (the process
 * that holds it is the only one that could write), so `lost` never aborts.
 */
export class TurnQueue {
  readonly #lines = new Map<string, Line>();
  #lastToken: number;

  /**
   * @param firstToken tokens count up from here. The default follows the
   *   clock (µs), so a restarted process issues tokens above those an earlier
   *   one left in a durable store.
   */
  constructor({ firstToken = Date.now() * 1000 }: { firstToken?: number } = {}) {
    this.#lastToken = firstToken;
  }

  acquire(sessionId: string, signal?: AbortSignal): Promise<TurnLease> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const line = this.#line(sessionId);
    if (line.holder === undefined) {
      line.holder = this.#lease(sessionId, line);
      return Promise.resolve(line.holder);
    }
    return new Promise<TurnLease>((resolve, reject) => {
      const onAbort = (): void => {
        const at = line.waiters.indexOf(waiter);
        if (at >= 0) line.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (lease) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(lease);
        },
      };
      line.waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The turn, only if the session's line is empty. */
  tryAcquire(sessionId: string): TurnLease | undefined {
    if (this.#lines.has(sessionId)) return undefined;
    const line = this.#line(sessionId);
    line.holder = this.#lease(sessionId, line);
    return line.holder;
  }

  /** Sessions with a holder or waiters. */
  get size(): number {
    return this.#lines.size;
  }

  #line(sessionId: string): Line {
    let line = this.#lines.get(sessionId);
    if (line === undefined) {
      line = { holder: undefined, waiters: [] };
      this.#lines.set(sessionId, line);
    }
    return line;
  }

  #lease(sessionId: string, line: Line): TurnLease {
    let released = false;
    const lease: TurnLease = {
      token: ++this.#lastToken,
      lost: NEVER_LOST,
      release: async () => {
        if (released) return;
        released = true;
        const next = line.waiters.shift();
        if (next === undefined) {
          line.holder = undefined;
          this.#lines.delete(sessionId);
          return;
        }
        line.holder = this.#lease(sessionId, line);
        next.grant(line.holder);
      },
    };
    return lease;
  }
}
