import { type Logger, silentLogger } from "@chatgptchatbot/core";
import { Redis, type RedisOptions, ReplyError } from "ioredis";
import { RedisKeys } from "./redis-keys.js";
import { describeRedisEndpoint, parseRedisUrl, type RedisEndpoint } from "./redis-url.js";
import { storeUnavailable } from "./store-unavailable.js";

/** A command without a reply after this long fails (well inside the 3 s the pool may spend on a store call). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** Reconnect attempts back off up to this, forever: Redis coming back is noticed within it. */
const MAX_RECONNECT_DELAY_MS = 1_000;

export interface RedisConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…`, or the endpoint already parsed. */
  readonly url: string | RedisEndpoint;
  /** Prefix of every key (default `chatgptchatbot:`), so several deployments can share one Redis. */
  readonly prefix?: string;
  /** Per-command reply timeout and connect timeout (default 2 s). */
  readonly commandTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * One ioredis client shared by the session store and the coordinator, set
 * up to fail fast: no offline queue (a command while disconnected fails at
 * once instead of waiting for a reconnect), no resend of commands in flight
 * when the connection drops (a script may have run; sending it again could
 * apply a turn twice), a reply timeout on every command. It reconnects by
 * itself, forever, with a capped backoff. Every failure reaches callers as
 * core's Unavailable "session store unavailable" through {@link run}.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly endpoint: RedisEndpoint;
  readonly logger: Logger;
  readonly #options: RedisOptions;
  #subscriber: Redis | undefined;
  readonly #commandTimeoutMs: number;
  /** When the command connection last stopped being ready (undefined: ready, or never was yet). */
  #notReadySince: number | undefined;
  /** False after a command got no answer (timed out), until one does. */
  #answering = true;
  #closed = false;
  /** Logged once per outage, not once per reconnect attempt. */
  #down = false;

  constructor({
    url,
    prefix,
    commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    logger = silentLogger,
  }: RedisConnectionOptions) {
    this.endpoint = typeof url === "string" ? parseRedisUrl(url) : url;
    this.keys = new RedisKeys({ prefix });
    this.logger = logger;
    if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
      throw new RangeError("commandTimeoutMs must be a positive integer");
    }
    this.#commandTimeoutMs = commandTimeoutMs;
    const { host, port, username, password, db, tls } = this.endpoint;
    this.#options = {
      host,
      port,
      username,
      password,
      db,
      ...(tls ? { tls: { servername: host } } : {}),
      // RESP2: replies of scripts and commands have one shape whatever the server's version.
      protocol: 2,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: commandTimeoutMs,
      connectTimeout: commandTimeoutMs,
      retryStrategy: (times) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS),
      lazyConnect: false,
      connectionName: "chatgptchatbot",
      disableClientInfo: true,
    };
    this.client = this.#watch(new Redis(this.#options), "commands");
    this.client.on("close", () => {
      this.#notReadySince ??= Date.now();
    });
    this.client.on("ready", () => {
      this.#notReadySince = undefined;
      this.#answering = true;
    });
  }

  /** The endpoint for a log line, the password masked. */
  describe(): string {
    return describeRedisEndpoint(this.endpoint);
  }

  /**
   * Whether commands can be sent now: connected, authenticated, and the last
   * command did not time out (a hung Redis keeps its socket open). Cheap:
   * for a health check.
   */
  isReady(): boolean {
    return this.client.status === "ready" && this.#answering;
  }

  /** Asks Redis to answer; false when it does not within the command timeout. */
  async ping(): Promise<boolean> {
    try {
      return (await this.run((client) => client.ping())) === "PONG";
    } catch {
      return false;
    }
  }

  /**
   * Waits until Redis answers, at most `timeoutMs`.
   * @throws core's Unavailable when it does not.
   */
  async waitUntilReady({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.client.status === "ready" && (await this.ping())) return;
      if (this.#closed || Date.now() >= deadline)
        throw storeUnavailable(new Error(`Redis at ${this.describe()} is not ready`));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Runs Redis calls; any failure becomes core's Unavailable "session store
   * unavailable". While the client is (re)connecting, waits for it at most
   * one command timeout, so calls made just after start or just as Redis
   * comes back go through; during an outage known to last longer than that,
   * fails at once.
   */
  async run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw storeUnavailable(new Error("the Redis connection is closed"));
    try {
      if (this.client.status !== "ready") await this.#untilReady();
      const result = await operation(this.client);
      this.#answering = true;
      return result;
    } catch (error) {
      // An error reply means Redis answered; anything else (timeout, closed socket) means it did not.
      this.#answering = error instanceof ReplyError;
      throw storeUnavailable(error);
    }
  }

  /**
   * A second connection in subscriber mode (Redis allows no other command on
   * it), made on first use; it resubscribes by itself after a reconnect.
   */
  #untilReady(): Promise<void> {
    const waitMs =
      this.#notReadySince === undefined
        ? this.#commandTimeoutMs
        : this.#notReadySince + this.#commandTimeoutMs - Date.now();
    if (waitMs <= 0) return Promise.reject(new Error(`Redis at ${this.describe()} is unreachable`));
    return new Promise((resolve, reject) => {
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off("ready", ready);
        reject(new Error(`Redis at ${this.describe()} did not answer within ${this.#commandTimeoutMs} ms`));
      }, waitMs);
      this.client.once("ready", ready);
    });
  }

  subscriber(): Redis {
    if (this.#subscriber === undefined) {
      // Its one command (SUBSCRIBE) may wait for the connection: nothing else is sent on it.
      this.#subscriber = this.#watch(
        new Redis({ ...this.#options, enableOfflineQueue: true, autoResubscribe: true }),
        "subscriber",
      );
    }
    return this.#subscriber;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const client of [this.client, this.#subscriber]) {
      if (client === undefined) continue;
      // QUIT waits for replies in flight; disconnect when Redis is not there to answer.
      await client.quit().catch(() => client.disconnect());
    }
  }

  #watch(client: Redis, role: string): Redis {
    // Without an "error" listener an unreachable Redis would crash the process.
    client.on("error", (error: Error) => {
      if (this.#down || this.#closed) return;
      this.#down = true;
      this.logger.warn(
        { redis: this.describe(), role, err: error.message },
        "session store: Redis unreachable; retrying",
      );
    });
    client.on("ready", () => {
      if (!this.#down) return;
      this.#down = false;
      this.logger.info({ redis: this.describe(), role }, "session store: Redis reachable again");
    });
    return client;
  }
}
