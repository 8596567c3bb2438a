import { formatSeconds } from "./transport-failure.js";

export interface AttemptDeadlineOptions {
  /** The caller's signal: aborting it aborts the current attempt, with the caller's reason. */
  readonly signal: AbortSignal;
  /** How long one attempt may take, from its start to the end of its reply (ms). */
  readonly timeoutMs: number;
}

/**
 * The total deadline of each upstream attempt (`requestTimeoutMs`): from the
 * moment an attempt starts until its reply has been read to the end, response
 * headers and the whole body, however steadily the chunks arrive. One per
 * request; each {@link start} begins a new attempt with the full time.
 *
 * The signal {@link start} returns aborts when the caller's does, or when the
 * time is up (reason: a `TimeoutError` DOMException); handed to the upstream
 * request, either one closes its connection. {@link timedOut} tells them apart.
 * It is a timer that is cleared, not `AbortSignal.timeout`, so a finished
 * attempt leaves nothing pending.
 */
export class AttemptDeadline {
  readonly #caller: AbortSignal;
  readonly #timeoutMs: number;
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;
  readonly #onCallerAbort = (): void => this.#controller?.abort(this.#caller.reason);

  constructor({ signal, timeoutMs }: AttemptDeadlineOptions) {
    this.#caller = signal;
    this.#timeoutMs = timeoutMs;
  }

  /** Ends the previous attempt (if any) and starts a new one: the signal to hand to its request. */
  start(): AbortSignal {
    this.end();
    const controller = new AbortController();
    this.#controller = controller;
    this.#timedOut = false;
    if (this.#caller.aborted) {
      controller.abort(this.#caller.reason);
      return controller.signal;
    }
    this.#caller.addEventListener("abort", this.#onCallerAbort, { once: true });
    this.#timer = setTimeout(() => {
      if (controller.signal.aborted) return;
      this.#timedOut = true;
      controller.abort(new DOMException(this.message, "TimeoutError"));
    }, this.#timeoutMs);
    // The upstream socket keeps the process alive while a request is open; the timer need not.
    this.#timer.unref();
    return controller.signal;
  }

  /** Whether the current (or last) attempt was cut by the deadline, not by the caller. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** The safe reason for a timed-out attempt: "the upstream timed out after 60 s". */
  get message(): string {
    return `the upstream timed out after ${formatSeconds(this.#timeoutMs)}`;
  }

  /** Aborts the current attempt, closing its connection (a reply left before its end). Not a timeout. */
  abort(): void {
    this.#controller?.abort();
  }

  /** Stops the current attempt's timer and stops listening to the caller's signal. Idempotent. */
  end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#caller.removeEventListener("abort", this.#onCallerAbort);
  }
}
