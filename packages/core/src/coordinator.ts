/**
 * What several replicas of the server must agree on, besides the session
 * records themselves (those are the {@link SessionStore}'s): the cooldown of
 * each credential, whose turn it is to chat in a session, and how many
 * sessions may exist. The pool asks only this interface, so an in-process
 * implementation ({@link MemoryCoordinator}) and a shared one (Redis) are
 * interchangeable. Everything is async for the shared ones' sake.
 */
export interface Coordinator {
  /**
   * Takes the first of `credentials` that is not cooling down and records its
   * use now, atomically: two callers (in any replica) never both get the same
   * credential within `intervalMs`. An interval of 0 disables the cooldown
   * (the first credential is taken).
   *
   * @returns the credential taken, or how long until the soonest one is free.
   */
  acquireCredential(request: CredentialRequest): Promise<CredentialGrant>;

  /**
   * Waits for the session's turn, in arrival order, and holds it until the
   * lease is released: one chat (or renew) at a time per session, whichever
   * replica runs it. Waiting is bounded only by `signal` (the caller's
   * cancel or deadline): when it aborts, the waiter leaves the line and the
   * promise rejects with the signal's reason.
   */
  acquireTurn(request: TurnRequest): Promise<TurnLease>;

  /** Takes the session's turn only if nobody holds it or waits for it (a session the sweeper may evict). */
  tryAcquireTurn(sessionId: string): Promise<TurnLease | undefined>;

  /**
   * Reserves a slot for a session about to be created, atomically against
   * other reservations: succeeds while the sessions stored (`occupied`) plus
   * the slots reserved, this one included, stay within `limit`. The holder
   * releases it once the session is stored (the store counts it from then
   * on) or its creation failed.
   *
   * @returns the reservation, or undefined when the limit is reached.
   */
  reserveSlot(request: SlotRequest): Promise<SlotReservation | undefined>;
}

export interface CredentialRequest {
  /** In order of preference; never empty. */
  readonly credentials: readonly string[];
  /** Minimum interval between two uses of one credential (0: none). */
  readonly intervalMs: number;
}

export type CredentialGrant =
  | { readonly ok: true; readonly credential: string }
  | { readonly ok: false; readonly retryAfterMs: number };

export interface TurnRequest {
  readonly sessionId: string;
  /** Gives up waiting (and leaves the line) when aborted. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A session's turn, held until released. A shared implementation expires a
 * lease whose holder vanished (and extends it while the holder lives); the
 * holder learns of a loss through `lost`. The fencing `token` lets the
 * session store refuse a write from a holder whose lease was lost meanwhile.
 */
export interface TurnLease {
  /**
   * Greater than the token of every earlier lease on the same session (also
   * across restarts and replicas): pass it to the store's writes.
   */
  readonly token: number;
  /** Aborts when the lease is lost before release (expired); the holder should stop, its writes will be refused. */
  readonly lost: AbortSignal;
  /** Ends the turn; the next waiter gets it. Idempotent. */
  release(): Promise<void>;
}

export interface SlotRequest {
  /** The session limit. */
  readonly limit: number;
  /** How many sessions exist now (the store's count). */
  readonly occupied: () => Promise<number>;
}

export interface SlotReservation {
  /** Gives the slot back. Idempotent. */
  release(): Promise<void>;
}
