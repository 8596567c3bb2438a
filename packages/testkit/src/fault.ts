/** A failure a fake upstream plays instead of (or while) answering one request. */
export type Fault =
  /** Answer with this status and the upstream's error body; `retryAfter` (seconds) sets `Retry-After`. */
  | { kind: "status"; status: number; retryAfter?: number; message?: string }
  /** Answer 200 with a body that is not valid JSON (see each fake for the streaming variant). */
  | { kind: "malformed" }
  /** Send headers and part of the reply, then destroy the socket. */
  | { kind: "cut" }
  /** Read the request and never answer, until the client aborts or the fake closes. */
  | { kind: "hang" }
  /** Stream the reply one chunk every `intervalMs` (non-streaming: delay the reply by `intervalMs` × chunks). */
  | { kind: "trickle"; intervalMs: number }
  /** Stream 200, part of the reply, then the upstream's in-stream error event (`message` its reason); the stream then ends. */
  | { kind: "error-event"; message?: string }
  /**
   * Stream 200 and the reply's text, then close the stream cleanly without its terminator (no finish_reason or
   * finished message, no `[DONE]`): what a proxy or a crashed upstream leaves behind.
   */
  | { kind: "unterminated" };

/** FIFO of faults: each request takes the next one; an empty queue means "answer normally". */
export class FaultQueue {
  readonly #faults: Fault[] = [];

  enqueue(...faults: Fault[]): void {
    for (const fault of faults) {
      if (fault.kind === "status" && !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)) {
        throw new RangeError(`status fault needs an HTTP status, got ${fault.status}`);
      }
      if (fault.kind === "status" && fault.retryAfter !== undefined && !(fault.retryAfter >= 0)) {
        throw new RangeError(`retryAfter must be a non-negative number of seconds, got ${fault.retryAfter}`);
      }
      if (fault.kind === "trickle" && !(fault.intervalMs >= 0)) {
        throw new RangeError(`trickle intervalMs must be >= 0, got ${fault.intervalMs}`);
      }
    }
    this.#faults.push(...faults);
  }

  next(): Fault | undefined {
    return this.#faults.shift();
  }

  get size(): number {
    return this.#faults.length;
  }
}
