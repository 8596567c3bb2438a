import { randomUUID } from "node:crypto";
import type {
  Coordinator,
  CredentialGrant,
  CredentialRequest,
  SlotRequest,
  SlotReservation,
  TurnLease,
  TurnRequest,
} from "@chatgptchatbot/core";
import {
  ACQUIRE_CREDENTIAL,
  ENQUEUE,
  EXTEND_SLOT,
  EXTEND_TURN,
  LEAVE_LINE,
  RELEASE_TURN,
  RESERVE_SLOT,
  TAKE_TURN,
  TRY_TAKE_TURN,
} from "./coordinator-scripts.js";
import type { RedisConnection } from "./redis-connection.js";
import { TurnWakeups } from "./turn-wakeups.js";

/** A lease whose holder stops extending it (replica killed) ends after this; well within the 30 s the issue allows. */
export const DEFAULT_LEASE_MS = 10_000;
/** A waiter re-checks the line at least this often (a holder that died publishes nothing). */
const DEFAULT_POLL_MS = 250;
/** A reservation whose replica died frees its slot after this; a live holder keeps extending it. */
const SLOT_TTL_MS = 60_000;

export interface RedisCoordinatorOptions {
  /** The connection it shares with the {@link RedisSessionStore}. */
  readonly connection: RedisConnection;
  /** How long a turn's lease lasts without being extended (default 10 s; extended at a third of it). */
  readonly leaseMs?: number;
  /** How often a waiter re-checks the line besides being woken (default 250 ms). */
  readonly pollMs?: number;
}

/**
 * A {@link Coordinator} on Redis, shared by every replica:
 * - cooldowns: one key per credential (named by its SHA-256), taken with
 *   SET NX PX inside one script, so two replicas never both get one;
 * - a session's turn: a ticket line (INCR + sorted set) in arrival order,
 *   a lease key with a TTL extended while the holder lives, a fencing token
 *   from Redis's clock, and a pub/sub wake-up on release (plus polling,
 *   which notices a holder that died);
 * - slots under the session limit: a sorted set of reservations with expiry.
 */
export class RedisCoordinator implements Coordinator {
  readonly #connection: RedisConnection;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #wakeups: TurnWakeups;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor({ connection, leaseMs = DEFAULT_LEASE_MS, pollMs = DEFAULT_POLL_MS }: RedisCoordinatorOptions) {
    for (const [name, value] of [
      ["leaseMs", leaseMs],
      ["pollMs", pollMs],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 10)
        throw new RangeError(`${name} must be an integer of at least 10 ms`);
    }
    this.#connection = connection;
    this.#leaseMs = leaseMs;
    this.#pollMs = pollMs;
    this.#wakeups = new TurnWakeups({ connection });
  }

  async acquireCredential({ credentials, intervalMs }: CredentialRequest): Promise<CredentialGrant> {
    if (credentials.length === 0) throw new RangeError("no credential to acquire");
    if (intervalMs <= 0) return { ok: true, credential: credentials[0]! };
    const keys = credentials.map((credential) => this.#connection.keys.cooldown(credential));
    const reply = Number(
      await this.#connection.run((client) => ACQUIRE_CREDENTIAL.run(client, keys, [Math.ceil(intervalMs)])),
    );
    if (reply > 0) return { ok: true, credential: credentials[reply - 1]! };
    return { ok: false, retryAfterMs: -reply };
  }

  async acquireTurn({ sessionId, signal }: TurnRequest): Promise<TurnLease> {
    signal?.throwIfAborted();
    const keys = this.#connection.keys;
    const waiterPrefix = keys.turnWaiterPrefix(sessionId);
    const lineKeys = this.#lineKeys(sessionId);
    /** Takes a ticket; the turn too, when nobody holds it or waits ahead. */
    const enqueue = async (): Promise<{ ticket: string; token?: string }> => {
      const reply = await this.#connection.run((client) =>
        ENQUEUE.run(client, lineKeys, [waiterPrefix, this.#leaseMs, this.#leaseMs]),
      );
      const [ticket, token] = reply as [string, string | undefined];
      return token === undefined ? { ticket } : { ticket, token };
    };
    const first = await enqueue();
    let ticket = first.ticket;
    if (first.token !== undefined) return this.#granted({ sessionId, ticket, token: first.token, signal });
    try {
      for (;;) {
        signal?.throwIfAborted();
        // Listen before trying, so a release between the try and the wait still wakes this waiter.
        const wakeup = this.#wakeups.arm(sessionId);
        let reply: unknown;
        try {
          const args = [ticket, this.#leaseMs, waiterPrefix, this.#leaseMs];
          reply = await this.#connection.run((client) => TAKE_TURN.run(client, lineKeys, args));
        } catch (error) {
          wakeup.cancel();
          throw error;
        }
        if (reply === "lost") {
          // This ticket's heartbeat lapsed (the process stalled longer than a lease): line up again.
          wakeup.cancel();
          const again = await enqueue();
          ticket = again.ticket;
          if (again.token !== undefined) return await this.#granted({ sessionId, ticket, token: again.token, signal });
          continue;
        }
        if (reply !== "wait") {
          wakeup.cancel();
          return await this.#granted({ sessionId, ticket, token: String(reply), signal });
        }
        await wakeup.wait({ timeoutMs: this.#pollMs, signal });
      }
    } catch (error) {
      // Leave the line (best effort: if Redis is down, the heartbeat expires and the ticket is skipped).
      const args = [ticket, keys.turnWaiter(sessionId, ticket), keys.turnChannel, sessionId];
      await this.#connection
        .run((client) => LEAVE_LINE.run(client, [keys.turnQueue(sessionId)], args))
        .catch(() => undefined);
      throw error;
    }
  }

  async tryAcquireTurn(sessionId: string): Promise<TurnLease | undefined> {
    const waiterPrefix = this.#connection.keys.turnWaiterPrefix(sessionId);
    const lineKeys = this.#lineKeys(sessionId);
    const reply = await this.#connection.run((client) =>
      TRY_TAKE_TURN.run(client, lineKeys, [this.#leaseMs, waiterPrefix]),
    );
    if (!Array.isArray(reply)) return undefined;
    const [ticket, token] = reply as [string, string];
    return this.#lease({ sessionId, ticket, token: Number(token) });
  }

  async reserveSlot({ limit, occupied }: SlotRequest): Promise<SlotReservation | undefined> {
    const key = this.#connection.keys.slots;
    const id = randomUUID();
    // Counted before the store is asked, so concurrent reservations (any replica) see each other.
    const reserved = Number(await this.#connection.run((client) => RESERVE_SLOT.run(client, [key], [id, SLOT_TTL_MS])));
    const keepAlive = this.#every(SLOT_TTL_MS / 3, () =>
      this.#connection.run((client) => EXTEND_SLOT.run(client, [key], [id, SLOT_TTL_MS])),
    );
    let held = true;
    const release = async (): Promise<void> => {
      if (!held) return;
      held = false;
      this.#stop(keepAlive);
      // If Redis is down the reservation expires by itself.
      await this.#connection.run((client) => client.zrem(key, id)).catch(() => undefined);
    };
    try {
      if ((await occupied()) + reserved <= limit) return { release };
    } catch (error) {
      await release();
      throw error;
    }
    await release();
    return undefined;
  }

  /** Stops timers and wake-ups; leases still held expire in Redis by themselves. */
  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.#wakeups.close();
  }

  /** The keys of a session's line, in the order the turn scripts take them. */
  #lineKeys(sessionId: string): string[] {
    const keys = this.#connection.keys;
    return [
      keys.turnLease(sessionId),
      keys.turnQueue(sessionId),
      keys.turnFence(sessionId),
      keys.turnTickets(sessionId),
    ];
  }

  /** A turn just taken: handed back at once if the caller gave up meanwhile. */
  async #granted({
    sessionId,
    ticket,
    token,
    signal,
  }: {
    sessionId: string;
    ticket: string;
    token: string;
    signal: AbortSignal | undefined;
  }): Promise<TurnLease> {
    const lease = this.#lease({ sessionId, ticket, token: Number(token) });
    if (signal?.aborted) {
      await lease.release();
      signal.throwIfAborted();
    }
    return lease;
  }

  #lease({ sessionId, ticket, token }: { sessionId: string; ticket: string; token: number }): TurnLease {
    const leaseKey = this.#connection.keys.turnLease(sessionId);
    const lost = new AbortController();
    let released = false;
    let extendedAt = Date.now();
    const timer = this.#every(this.#leaseMs / 3, async () => {
      try {
        const still = await this.#connection.run((client) =>
          EXTEND_TURN.run(client, [leaseKey], [ticket, this.#leaseMs]),
        );
        if (still === 1) extendedAt = Date.now();
        else lose(new Error("the session's turn lease expired"));
      } catch (error) {
        // Redis unreachable: the lease may be expiring there; once it surely has, say so.
        if (Date.now() - extendedAt >= this.#leaseMs) lose(error);
      }
    });
    const lose = (reason: unknown): void => {
      this.#stop(timer);
      if (!released) lost.abort(reason);
    };
    return {
      token,
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        this.#stop(timer);
        try {
          const channel = this.#connection.keys.turnChannel;
          await this.#connection.run((client) => RELEASE_TURN.run(client, [leaseKey], [ticket, channel, sessionId]));
        } catch {
          // Never thrown at the holder (it releases in a finally): with Redis down, the lease expires by itself.
          return;
        }
        this.#wakeups.wake(sessionId); // this replica's waiters need not wait for the message's round trip
      },
    };
  }

  #every(ms: number, task: () => Promise<unknown>): NodeJS.Timeout {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref(); // a held lease never keeps the process alive
    this.#timers.add(timer);
    return timer;
  }

  #stop(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.#timers.delete(timer);
  }
}
