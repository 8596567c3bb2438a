import type { ServerResponse } from "node:http";

/**
 * Counts replies the client abandoned: the connection closed before the reply was
 * finished, and not because the fake cut it on purpose (a `cut` fault) or was closing.
 */
export class AbortTracker {
  #count = 0;
  /** Aborts already handed to a resolved `wait()`. */
  #consumed = 0;
  #closing = false;
  readonly #deliberate = new WeakSet<ServerResponse>();
  readonly #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  get count(): number {
    return this.#count;
  }

  /** Starts watching a reply; call before anything async happens for its request. */
  watch(res: ServerResponse): void {
    res.once("close", () => {
      if (res.writableFinished || this.#closing || this.#deliberate.has(res)) return;
      this.#count += 1;
      this.#wake();
    });
  }

  /** Destroys the reply's connection without counting it as a client abort. */
  destroy(res: ServerResponse): void {
    this.#deliberate.add(res);
    res.destroy();
  }

  /**
   * Resolves once there is an abort no earlier `wait()` has consumed: an abort that
   * already happened resolves at once, so calling this after the client aborted is not a
   * race. Rejects after `timeoutMs` or when the fake closes.
   */
  wait(timeoutMs = 5000): Promise<void> {
    if (this.#count > this.#consumed) {
      this.#consumed += 1;
      return Promise.resolve();
    }
    if (this.#closing) return Promise.reject(new Error("fake upstream is closed"));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no aborted request within ${timeoutMs} ms (${this.#count} so far)`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Stops counting (the fake is destroying every socket) and rejects pending waits. */
  close(): void {
    this.#closing = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error("fake upstream closed"));
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#count > this.#consumed) {
      this.#consumed += 1;
      this.#waiters.shift()?.resolve();
    }
  }
}
