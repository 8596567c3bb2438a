import type { BackendResolver } from "./backend.js";
import { ChatbotError } from "./errors.js";
import { askInitialPrompt, type FreshConversation, SILENT_START } from "./initial-prompt.js";
import { type Logger, shortId } from "./logger.js";
import type { SessionRecord, SessionStore } from "./session-store.js";
import type { SessionTurns } from "./session-turns.js";

export interface SweepReport {
  readonly renewed: string[];
  readonly evicted: string[];
  readonly failed: string[];
}

export interface SessionSweeperOptions {
  readonly store: SessionStore;
  readonly turns: SessionTurns;
  readonly backends: BackendResolver;
  /** A conversation older than this is reset (0: never). */
  readonly renewMs: number;
  /** A session idle longer than this may be evicted (0: never). */
  readonly zombieMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * The pool's housekeeping: renews conversations older than the renew
 * interval (in the session's turn, in the background) and evicts idle
 * sessions ("zombies"), by sweep or to make room for a new one. A session
 * whose turn is held or awaited is never evicted.
 */
export class SessionSweeper {
  readonly #store: SessionStore;
  readonly #turns: SessionTurns;
  readonly #backends: BackendResolver;
  readonly #renewMs: number;
  readonly #zombieMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #background = new Set<Promise<unknown>>();
  #sweeping = false;

  constructor(options: SessionSweeperOptions) {
    this.#store = options.store;
    this.#turns = options.turns;
    this.#backends = options.backends;
    this.#renewMs = options.renewMs;
    this.#zombieMs = options.zombieMs;
    this.#log = options.logger;
    this.#now = options.now;
  }

  /**
   * Renews conversations older than the renew interval and evicts zombies.
   * A session that fails is logged and skipped; the sweep goes on.
   */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { renewed: [], evicted: [], failed: [] };
    if (this.#sweeping) return report;
    this.#sweeping = true;
    try {
      const records = await this.#store.list();
      const now = this.#now();
      for (const record of records) {
        try {
          if (this.#isZombie(record, now) && (await this.evict(record.id))) {
            report.evicted.push(record.id);
          } else if (this.#renewMs > 0 && now - record.conversationStartedAt > this.#renewMs) {
            this.#renewInBackground(record.id);
            report.renewed.push(record.id);
          }
        } catch (error) {
          report.failed.push(record.id);
          this.#log.error(
            { session: shortId(record.id), err: ChatbotError.from(error).message },
            "sweep failed for a session",
          );
        }
      }
    } catch (error) {
      this.#log.error({ err: ChatbotError.from(error).message }, "sweep failed");
    } finally {
      this.#sweeping = false;
    }
    return report;
  }

  /** The zombies now, the most idle first. */
  async zombies(): Promise<SessionRecord[]> {
    const now = this.#now();
    return (await this.#store.list())
      .filter((r) => this.#isZombie(r, now))
      .sort((a, b) => a.lastActiveAt - b.lastActiveAt);
  }

  /**
   * Deletes a session if it is (still) a zombie and its turn is free.
   *
   * @returns whether it was evicted.
   */
  async evict(sessionId: string): Promise<boolean> {
    const done = await this.#turns.runIfIdle(sessionId, async () => {
      const record = await this.#store.get(sessionId);
      if (record === undefined || !this.#isZombie(record, this.#now())) return false;
      if (!(await this.#store.delete(sessionId))) return false;
      this.#log.info({ session: shortId(sessionId) }, "idle session evicted");
      return true;
    });
    return done?.value ?? false;
  }

  /** Waits (bounded) for background renewals. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.#background.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#background]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  #isZombie(record: SessionRecord, now: number): boolean {
    return this.#zombieMs > 0 && now - record.lastActiveAt > this.#zombieMs;
  }

  #renewInBackground(sessionId: string): void {
    const task = this.#turns
      .run(sessionId, undefined, async (turn) => {
        const record = await this.#store.get(sessionId);
        if (record === undefined || turn.deleted) return;
        const now = this.#now();
        if (this.#renewMs === 0 || now - record.conversationStartedAt <= this.#renewMs) return; // renewed meanwhile
        // Ask first, change the record after: a renew that fails leaves the
        // conversation as it was, and the next sweep tries again.
        let fresh: FreshConversation = SILENT_START;
        const backend = this.#backends(record.config);
        if (backend.initialPrompt === "ask" && record.initialPrompt.trim() !== "") {
          fresh = await askInitialPrompt({
            config: record.config,
            initialPrompt: record.initialPrompt,
            backend,
            signal: turn.signal,
          });
        }
        if (turn.deleted) return;
        const outcome = await this.#store.renew(sessionId, turn.token, { ...fresh, conversationStartedAt: now });
        if (outcome === "written") this.#log.info({ session: shortId(sessionId) }, "conversation renewed");
      })
      .catch((error: unknown) => {
        this.#log.warn({ session: shortId(sessionId), err: ChatbotError.from(error).message }, "renew failed");
      });
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }
}
