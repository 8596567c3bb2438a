import {
  ChatbotError,
  type Coordinator,
  type CredentialGrant,
  type CredentialRequest,
  ErrorCode,
  MemoryCoordinator,
  type SlotRequest,
  type SlotReservation,
  type TurnLease,
  type TurnRequest,
} from "@chatgptchatbot/core";
import type { CooldownTable } from "./cooldown-table.js";
import { toStoreError } from "./sqlite-failure.js";
import type { SqliteSessionStore } from "./sqlite-session-store.js";

/** Past this many tracked credentials, cooled-down ones are forgotten on the next acquire (memory and file). */
const PRUNE_ABOVE = 1024;

interface Tracked {
  readonly hash: string;
  /** Epoch ms of the last use, or undefined when never used (in this file). */
  lastUse: number | undefined;
}

/**
 * The {@link Coordinator} of the SQLite deployment, where one process owns
 * the file: each credential's last use is written to the store's file before
 * the credential is handed out, so a restart keeps every cooldown (a crash or
 * deploy never allows a burst upstream). The credential is stored only as an
 * HMAC-SHA256 under the file's random salt. A session's turn and the slots
 * under the session limit live in this process, as in
 * {@link MemoryCoordinator} (to which they are delegated): nothing of them
 * needs to outlive it, except that fencing tokens must keep rising, so the
 * first token is above every fence the file holds, whatever the clock did.
 */
export class SqliteCoordinator implements Coordinator {
  readonly #cooldowns: CooldownTable;
  readonly #file: string;
  readonly #now: () => number;
  readonly #inProcess: MemoryCoordinator;
  /** By credential (the process has the credentials anyway); only hashes reach the file. */
  readonly #tracked = new Map<string, Tracked>();
  /** Last uses read at start, by hash, until each credential is first asked for. */
  readonly #stored: Map<string, number>;
  #longestIntervalMs = 0;

  /**
   * Reads the stored cooldowns and the highest stored fence: call it once at
   * start, after opening the store.
   *
   * @throws SqliteStoreError when the file cannot be read or written.
   */
  constructor({ store, now = () => Date.now() }: { store: SqliteSessionStore; now?: () => number }) {
    this.#file = store.file;
    this.#now = now;
    try {
      this.#cooldowns = store.table.cooldowns();
      this.#stored = this.#cooldowns.load();
      // Tokens follow the clock (µs), as in MemoryCoordinator, but never start
      // below what an earlier process stored: its clock may have been ahead,
      // or it may have issued more than one token per µs.
      const firstToken = Math.max(now() * 1000, store.table.highestFence());
      this.#inProcess = new MemoryCoordinator({ now, firstToken });
    } catch (error) {
      throw toStoreError({ error, file: store.file });
    }
  }

  async acquireCredential({ credentials, intervalMs }: CredentialRequest): Promise<CredentialGrant> {
    if (credentials.length === 0) throw new RangeError("no credentials");
    if (intervalMs <= 0) return { ok: true, credential: credentials[0]! };
    const now = this.#now();
    this.#longestIntervalMs = Math.max(this.#longestIntervalMs, intervalMs);
    if (this.#tracked.size > PRUNE_ABOVE) this.#prune(now);
    let soonest = Number.POSITIVE_INFINITY;
    for (const credential of credentials) {
      const tracked = this.#track(credential);
      // A last use in the future (the clock went back since) waits at most one interval.
      const wait = tracked.lastUse === undefined ? 0 : Math.min(tracked.lastUse + intervalMs - now, intervalMs);
      if (wait <= 0) {
        // Durable first: a grant the file does not hold could be repeated after a crash.
        this.#write(() => this.#cooldowns.recordUse(tracked.hash, now));
        tracked.lastUse = now;
        return { ok: true, credential };
      }
      soonest = Math.min(soonest, wait);
    }
    return { ok: false, retryAfterMs: soonest };
  }

  acquireTurn(request: TurnRequest): Promise<TurnLease> {
    return this.#inProcess.acquireTurn(request);
  }

  tryAcquireTurn(sessionId: string): Promise<TurnLease | undefined> {
    return this.#inProcess.tryAcquireTurn(sessionId);
  }

  reserveSlot(request: SlotRequest): Promise<SlotReservation | undefined> {
    return this.#inProcess.reserveSlot(request);
  }

  #track(credential: string): Tracked {
    let tracked = this.#tracked.get(credential);
    if (tracked === undefined) {
      const hash = this.#cooldowns.hash(credential);
      tracked = { hash, lastUse: this.#stored.get(hash) };
      this.#stored.delete(hash);
      this.#tracked.set(credential, tracked);
    }
    return tracked;
  }

  /** Forgets credentials whose cooldown is over under every interval asked for, here and in the file. */
  #prune(now: number): void {
    const cutoff = now - this.#longestIntervalMs;
    this.#write(() => this.#cooldowns.forgetBefore(cutoff));
    for (const [credential, tracked] of this.#tracked) {
      if (tracked.lastUse === undefined || tracked.lastUse < cutoff) this.#tracked.delete(credential);
    }
    for (const [hash, lastUse] of this.#stored) if (lastUse < cutoff) this.#stored.delete(hash);
  }

  /** A failed write is the store's failure: Unavailable "session store unavailable", nothing granted. */
  #write(body: () => void): void {
    try {
      body();
    } catch (error) {
      throw new ChatbotError({
        code: ErrorCode.Unavailable,
        message: "session store unavailable",
        cause: toStoreError({ error, file: this.#file }),
      });
    }
  }
}
