import type { RedisConnection } from "./redis-connection.js";

/** One waiter's wake-up: armed before it tries for the turn, awaited after a failed try. */
export interface Wakeup {
  /** Resolves when the session's turn was released (anywhere), after `timeoutMs`, or when `signal` aborts. */
  wait(options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void>;
  /** Disarms it without waiting. */
  cancel(): void;
}

/**
 * Wakes this replica's waiters for a session's turn when any replica
 * releases it: one subscription to the release channel per process, and
 * per session the waiters armed now. A missed message (subscriber
 * reconnecting) only costs a waiter its poll interval.
 */
export class TurnWakeups {
  readonly #connection: RedisConnection;
  readonly #armed = new Map<string, Set<() => void>>();
  #subscribed = false;
  #closed = false;

  constructor({ connection }: { connection: RedisConnection }) {
    this.#connection = connection;
  }

  arm(sessionId: string): Wakeup {
    this.#subscribe();
    let fired = false;
    let resolveWait: (() => void) | undefined;
    const fire = (): void => {
      fired = true;
      resolveWait?.();
    };
    let set = this.#armed.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.#armed.set(sessionId, set);
    }
    set.add(fire);
    const disarm = (): void => {
      const current = this.#armed.get(sessionId);
      current?.delete(fire);
      if (current?.size === 0) this.#armed.delete(sessionId);
    };
    return {
      cancel: disarm,
      wait: ({ timeoutMs, signal }) =>
        new Promise<void>((resolve) => {
          if (fired || signal?.aborted) {
            disarm();
            resolve();
            return;
          }
          const done = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            disarm();
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          signal?.addEventListener("abort", done, { once: true });
          resolveWait = done;
        }),
    };
  }

  /** Wakes every waiter of the session armed in this process. */
  wake(sessionId: string): void {
    const set = this.#armed.get(sessionId);
    if (set === undefined) return;
    for (const fire of [...set]) fire();
  }

  close(): void {
    this.#closed = true;
    for (const sessionId of [...this.#armed.keys()]) this.wake(sessionId);
  }

  #subscribe(): void {
    if (this.#subscribed || this.#closed) return;
    this.#subscribed = true;
    const subscriber = this.#connection.subscriber();
    const channel = this.#connection.keys.turnChannel;
    subscriber.on("message", (from: string, sessionId: string) => {
      if (from === channel) this.wake(sessionId);
    });
    // On every (re)connection, not only the first: a SUBSCRIBE that failed (Redis down at start) is never
    // resubscribed by ioredis. Until it succeeds waiters only poll; subscribing twice is harmless.
    const subscribe = (): void => {
      subscriber.subscribe(channel).catch(() => undefined);
    };
    subscriber.on("ready", subscribe);
    subscribe();
  }
}
