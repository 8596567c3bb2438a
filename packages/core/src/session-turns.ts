import type { Coordinator, TurnLease } from "./coordinator.js";
import { ChatbotError } from "./errors.js";

/** A session's turn as its holder sees it. */
export interface Turn {
  /** The lease's fencing token: pass it to the store's writes. */
  readonly token: number;
  /** Aborts when the session is deleted here, the lease is lost, or the caller gives up. */
  readonly signal: AbortSignal;
  /** Whether the session was deleted (or evicted) in this process while the turn ran. */
  readonly deleted: boolean;
}

/** A turn its holder entered and must release. */
export interface HeldTurn extends Turn {
  /** Aborts the turn's signal (the holder gives up: the work under it stops). */
  abort(reason: unknown): void;
  /** Ends the turn; the next waiter gets it. Idempotent. */
  release(): Promise<void>;
}

interface Running {
  readonly controller: AbortController;
  deleted: boolean;
}

/**
 * The per-session turn order: runs one task at a time per session, in
 * arrival order, each under the coordinator's lease. In process memory it
 * keeps only what a deletion here must reach: the running task's abort.
 */
export class SessionTurns {
  readonly #coordinator: Coordinator;
  readonly #running = new Map<string, Set<Running>>();

  constructor({ coordinator }: { coordinator: Coordinator }) {
    this.#coordinator = coordinator;
  }

  /**
   * Waits for the session's turn (bounded by `signal`), then runs `task`.
   *
   * @throws Aborted when `signal` aborts while waiting; whatever `task` throws.
   */
  async run<T>(sessionId: string, signal: AbortSignal | undefined, task: (turn: Turn) => Promise<T>): Promise<T> {
    const turn = await this.enter(sessionId, signal);
    try {
      return await task(turn);
    } finally {
      await turn.release();
    }
  }

  /**
   * Waits for the session's turn (bounded by `signal`) and holds it until
   * `release()`: for a holder whose work spans several steps, such as a
   * streamed reply handed out part by part. The holder must release it
   * (in a `finally`).
   *
   * @throws Aborted when `signal` aborts while waiting.
   */
  async enter(sessionId: string, signal: AbortSignal | undefined): Promise<HeldTurn> {
    let lease: TurnLease;
    try {
      lease = await this.#coordinator.acquireTurn({ sessionId, signal });
    } catch (error) {
      if (signal?.aborted) throw ChatbotError.aborted(undefined, error);
      throw ChatbotError.from(error);
    }
    return this.#hold(sessionId, lease, signal);
  }

  /** Runs `task` only if nobody holds or waits for the session's turn; undefined otherwise. */
  async runIfIdle<T>(sessionId: string, task: (turn: Turn) => Promise<T>): Promise<{ value: T } | undefined> {
    const lease = await this.#coordinator.tryAcquireTurn(sessionId);
    if (lease === undefined) return undefined;
    const turn = this.#hold(sessionId, lease, undefined);
    try {
      return { value: await task(turn) };
    } finally {
      await turn.release();
    }
  }

  /** Aborts every task running on the session in this process, with SessionNotFound: it was deleted. */
  deleted(sessionId: string): void {
    for (const running of this.#running.get(sessionId) ?? []) {
      running.deleted = true;
      running.controller.abort(ChatbotError.sessionNotFound(sessionId));
    }
  }

  #hold(sessionId: string, lease: TurnLease, signal: AbortSignal | undefined): HeldTurn {
    const controller = new AbortController();
    const running: Running = { controller, deleted: false };
    let set = this.#running.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.#running.set(sessionId, set);
    }
    set.add(running);
    // The turn's signal follows the lease and the caller's through listeners removed at release, not an
    // AbortSignal.any composite: one per chat cost more (its follow/refresh machinery) and outlived the turn.
    const unfollowLease = follow(lease.lost, controller);
    const unfollowCaller = signal === undefined ? undefined : follow(signal, controller);
    let released: Promise<void> | undefined;
    const registry = this.#running;
    return {
      token: lease.token,
      signal: controller.signal,
      get deleted() {
        return running.deleted;
      },
      abort(reason) {
        controller.abort(reason);
      },
      release() {
        released ??= (async () => {
          unfollowLease();
          unfollowCaller?.();
          set.delete(running);
          if (set.size === 0 && registry.get(sessionId) === set) registry.delete(sessionId);
          await lease.release();
        })();
        return released;
      },
    };
  }
}

/** Aborts `controller` when `source` aborts (at once if it has), with its reason; returns the unfollowing. */
function follow(source: AbortSignal, controller: AbortController): () => void {
  if (source.aborted) {
    controller.abort(source.reason);
    return () => {};
  }
  const onAbort = (): void => controller.abort(source.reason);
  source.addEventListener("abort", onAbort, { once: true });
  return () => source.removeEventListener("abort", onAbort);
}
