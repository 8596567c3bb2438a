import { createHash } from "node:crypto";

export const DEFAULT_REDIS_PREFIX = "chatgptchatbot:";
const MAX_PREFIX_LENGTH = 128;

/**
 * Every key this package writes, in one place (the README's key table lists
 * them). A session's keys share the hash tag `{id}`, so a script touching
 * one session touches one slot. Credentials never appear in a key name:
 * cooldown keys carry the credential's SHA-256.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor({ prefix = DEFAULT_REDIS_PREFIX }: { prefix?: string } = {}) {
    if (prefix.length > MAX_PREFIX_LENGTH || /[\s\p{Cc}]/u.test(prefix)) {
      throw new RangeError(
        `a Redis key prefix is at most ${MAX_PREFIX_LENGTH} characters, without spaces or control characters`,
      );
    }
    this.prefix = prefix;
  }

  /** Hash: the record's fields and the highest fencing token accepted. TTL: the zombie time, refreshed per chat. */
  session(id: string): string {
    return `${this.prefix}session:{${id}}`;
  }

  /** List: the history, oldest first, one JSON entry each. Same TTL as the hash. */
  history(id: string): string {
    return `${this.prefix}session:{${id}}:history`;
  }

  /** Sorted set: session id → when its record expires (ms, Redis's clock; +inf: never). */
  get sessionIndex(): string {
    return `${this.prefix}sessions`;
  }

  /** String: set while the credential cools down, with the interval as its TTL. */
  cooldown(credential: string): string {
    return `${this.prefix}cooldown:${createHash("sha256").update(credential).digest("hex")}`;
  }

  /** String: the ticket holding the session's turn; TTL: the lease. */
  turnLease(id: string): string {
    return `${this.prefix}turn:{${id}}:lease`;
  }

  /** Sorted set: tickets waiting for the session's turn, scored by ticket (arrival order). */
  turnQueue(id: string): string {
    return `${this.prefix}turn:{${id}}:queue`;
  }

  /** Counter: the session's last ticket. */
  turnTickets(id: string): string {
    return `${this.prefix}turn:{${id}}:tickets`;
  }

  /** String: the session's last fencing token (the clock may not go back past it). */
  turnFence(id: string): string {
    return `${this.prefix}turn:{${id}}:fence`;
  }

  /** String: a waiter's heartbeat; when it expires the waiter's replica is gone and its ticket is skipped. */
  turnWaiter(id: string, ticket: string): string {
    return this.turnWaiterPrefix(id) + ticket;
  }

  /** What every waiter key of the session starts with (the scripts append the ticket). */
  turnWaiterPrefix(id: string): string {
    return `${this.prefix}turn:{${id}}:waiter:`;
  }

  /** Pub/sub channel: a session id is published when its turn is released. */
  get turnChannel(): string {
    return `${this.prefix}turn-released`;
  }

  /** String: a named state value of the program (the HTTP API's default session), JSON or sealed. No TTL. */
  state(name: string): string {
    return `${this.prefix}state:${name}`;
  }

  /** Sorted set: reservation id → when it expires (ms), slots under the session limit. */
  get slots(): string {
    return `${this.prefix}slots`;
  }
}
