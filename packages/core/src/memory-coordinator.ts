import { Cooldown } from "./cooldown.js";
import type {
  Coordinator,
  CredentialGrant,
  CredentialRequest,
  SlotRequest,
  SlotReservation,
  TurnLease,
  TurnRequest,
} from "./coordinator.js";
import { TurnQueue } from "./turn-queue.js";

/** Past this many tracked credentials, cooled-down ones are forgotten on the next acquire. */
const PRUNE_ABOVE = 1024;

/**
 * The in-process {@link Coordinator}: right for one server process. Its
 * state lives in this process's memory, so replicas sharing a store need a
 * shared coordinator instead.
 */
export class MemoryCoordinator implements Coordinator {
  readonly #cooldown: Cooldown;
  readonly #turns: TurnQueue;
  /** The longest interval asked for, so pruning never forgets a credential still cooling down. */
  #longestIntervalMs = 0;
  #reserved = 0;

  constructor({ now = () => Date.now(), firstToken }: { now?: () => number; firstToken?: number } = {}) {
    this.#cooldown = new Cooldown({ now });
    this.#turns = new TurnQueue({ firstToken: firstToken ?? now() * 1000 });
  }

  async acquireCredential({ credentials, intervalMs }: CredentialRequest): Promise<CredentialGrant> {
    this.#longestIntervalMs = Math.max(this.#longestIntervalMs, intervalMs);
    if (this.#cooldown.size > PRUNE_ABOVE) this.#cooldown.prune(this.#longestIntervalMs);
    return this.#cooldown.acquire(credentials, intervalMs);
  }

  acquireTurn({ sessionId, signal }: TurnRequest): Promise<TurnLease> {
    return this.#turns.acquire(sessionId, signal);
  }

  async tryAcquireTurn(sessionId: string): Promise<TurnLease | undefined> {
    return this.#turns.tryAcquire(sessionId);
  }

  async reserveSlot({ limit, occupied }: SlotRequest): Promise<SlotReservation | undefined> {
    // Count this reservation before awaiting the store, so concurrent
    // reservations see each other and cannot overshoot the limit together.
    this.#reserved++;
    let held = true;
    const release = async (): Promise<void> => {
      if (!held) return;
      held = false;
      this.#reserved--;
    };
    try {
      if ((await occupied()) + this.#reserved <= limit) return { release };
    } catch (error) {
      await release();
      throw error;
    }
    await release();
    return undefined;
  }
}
