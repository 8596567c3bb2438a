import type { RenewWrite, SessionRecord, SessionStore, TurnWrite, WriteOutcome } from "@chatgptchatbot/core";

/** The store operations, as metrics name them. */
export type StoreOperation = "get" | "create" | "appendTurn" | "renew" | "delete" | "size" | "list";

/**
 * One finished store operation: how long it took and whether it threw. A
 * fenced write answering "not-found" or "stale" did its job: not an error.
 */
export type StoreObserver = (info: {
  readonly operation: StoreOperation;
  readonly seconds: number;
  readonly ok: boolean;
}) => void;

/**
 * A SessionStore that times every operation of the one it wraps and reports
 * it, whatever the store (memory, SQLite, Redis): the pool does not know it
 * is measured. Results and errors pass through unchanged.
 */
export class InstrumentedSessionStore implements SessionStore {
  readonly #store: SessionStore;
  readonly #observe: StoreObserver;

  constructor({ store, observe }: { store: SessionStore; observe: StoreObserver }) {
    this.#store = store;
    this.#observe = observe;
  }

  get(id: string): Promise<SessionRecord | undefined> {
    return this.#timed("get", () => this.#store.get(id));
  }

  create(record: SessionRecord): Promise<void> {
    return this.#timed("create", () => this.#store.create(record));
  }

  appendTurn(id: string, fence: number, turn: TurnWrite): Promise<WriteOutcome> {
    return this.#timed("appendTurn", () => this.#store.appendTurn(id, fence, turn));
  }

  renew(id: string, fence: number, fresh: RenewWrite): Promise<WriteOutcome> {
    return this.#timed("renew", () => this.#store.renew(id, fence, fresh));
  }

  delete(id: string): Promise<boolean> {
    return this.#timed("delete", () => this.#store.delete(id));
  }

  size(): Promise<number> {
    return this.#timed("size", () => this.#store.size());
  }

  list(): Promise<SessionRecord[]> {
    return this.#timed("list", () => this.#store.list());
  }

  async #timed<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      try {
        this.#observe({ operation, seconds: (performance.now() - started) / 1000, ok });
      } catch {
        // A metric never fails a store operation.
      }
    }
  }
}
