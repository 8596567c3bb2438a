import { type AskPart, ChatbotError, ErrorCode, silentLogger } from "@chatgptchatbot/core";
import { AttemptDeadline } from "./http/attempt-deadline.js";
import { withRetries } from "./http/retry.js";
import { decideUpstreamRetry, upstreamFailure } from "./upstream-failure.js";
import { failureOutcome, type UpstreamBackendName, UpstreamMeter } from "./upstream-observer.js";
import type { UpstreamOptions } from "./upstream-options.js";

/** One request to an upstream, as a backend builds it. */
export interface UpstreamCall<Reply> {
  /** Which backend this is, for metrics. */
  readonly backend: UpstreamBackendName;
  /** The fields of every log line about this request (backend, upstream, model, the masked credential). */
  readonly logFields: Readonly<Record<string, unknown>>;
  /**
   * Sends one attempt's request with the attempt's signal (the caller's, or
   * the deadline's); resolves with a reply worth reading, throws for a failed
   * attempt (an error answer as a ChatbotError carrying its status and Retry-After).
   */
  readonly open: (signal: AbortSignal) => Promise<Reply>;
  /**
   * Reads the reply into parts. It calls `readToEnd()` once the reply has been
   * read to its end: a reply left before that (an error, the consumer gone)
   * has its connection closed, since the rest of it will never be read.
   */
  readonly read: (reply: Reply, readToEnd: () => void) => AsyncIterator<AskPart, void, undefined>;
}

export interface UpstreamAttemptsOptions<Reply> {
  /** The request's credential: masked out of every message and kept cause. */
  readonly credential: string;
  /** The caller's signal: aborting it aborts the current attempt and the waits between attempts. */
  readonly signal: AbortSignal;
  /** The backend's settings: the deadline of one attempt, the retries, the logger, how retries wait. */
  readonly settings: UpstreamOptions;
  /**
   * Builds the request, on the first `next()`. What it throws (an invalid
   * base URL: InvalidArgument) reaches the caller as it is, neither mapped nor
   * logged: nothing was sent upstream.
   */
  readonly prepare: () => UpstreamCall<Reply> | Promise<UpstreamCall<Reply>>;
}

/**
 * The one flow of an upstream request, the same for every backend: each
 * attempt under a total deadline ({@link AttemptDeadline}); retries with
 * backoff or the upstream's Retry-After ({@link withRetries}), each logged
 * ("upstream request failed, retrying"); a timed-out attempt is final (another
 * would hold the session's turn for a second full timeout); the reply read
 * into parts under the same deadline, its finish withheld when the caller
 * has gone meanwhile; whatever fails mapped to one ChatbotError
 * ({@link upstreamFailure}) and logged once as a warning ("upstream request
 * failed"), unless the caller gave up.
 *
 * A backend's `ask` returns it as its stream of parts. It is a plain iterator
 * over the backend's reader, not a generator around it: two generator layers
 * (ask's and the runner's) cost each part a few promise turns, measured as
 * +14 % CPU per request of the backend alone (apps/bench's components,
 * 16 events a reply). Nothing happens before the first `next()`, as with a generator.
 */
export function runUpstreamAttempts<Reply>(
  options: UpstreamAttemptsOptions<Reply>,
): AsyncGenerator<AskPart, void, undefined> {
  return new UpstreamAttempts(options);
}

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };

type PartResult = IteratorResult<AskPart, void>;

class UpstreamAttempts<Reply> implements AsyncGenerator<AskPart, void, undefined> {
  readonly #options: UpstreamAttemptsOptions<Reply>;
  #parts: AsyncIterator<AskPart, void, undefined> | undefined;
  #deadline: AttemptDeadline | undefined;
  #call: UpstreamCall<Reply> | undefined;
  /** Reports the request's outcome and duration once (metrics); from when it was prepared. */
  #meter: UpstreamMeter | undefined;
  #complete = false;
  #closed = false;

  constructor(options: UpstreamAttemptsOptions<Reply>) {
    this.#options = options;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next part. Called one at a time (as `for await` does). */
  next(): Promise<IteratorResult<AskPart, void>> {
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#parts === undefined) return this.#start();
    return this.#parts.next().then(this.#onPart, this.#onError);
  }

  /** The consumer leaves: the reader is closed (its connection too, unless read to the end). */
  async return(): Promise<IteratorResult<AskPart, void>> {
    if (this.#closed) return DONE;
    try {
      await this.#parts?.return?.();
    } finally {
      this.#close();
    }
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<AskPart, void>> {
    await this.return();
    throw error;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  async #start(): Promise<IteratorResult<AskPart, void>> {
    const { signal, settings } = this.#options;
    if (signal.aborted) {
      this.#closed = true;
      throw ChatbotError.aborted(undefined, signal.reason);
    }
    let call: UpstreamCall<Reply>;
    try {
      call = await this.#options.prepare();
    } catch (error) {
      this.#closed = true;
      throw error;
    }
    this.#call = call;
    const meter = new UpstreamMeter({ observer: settings.observer, backend: call.backend });
    this.#meter = meter;
    const deadline = new AttemptDeadline({ signal, timeoutMs: settings.requestTimeoutMs });
    this.#deadline = deadline;
    let reply: Reply;
    try {
      reply = await withRetries(() => call.open(deadline.start()), {
        maxRetries: settings.maxRetries,
        signal,
        decide: (error) => (deadline.timedOut ? { retry: false } : decideUpstreamRetry(error)),
        onRetry: ({ retry, delayMs, error }) => {
          const failure = this.#map(error);
          meter.retry(failureOutcome({ failure, caught: error, timedOut: false }));
          this.#logger.info(
            { ...call.logFields, retry, delayMs, err: failure.message },
            "upstream request failed, retrying",
          );
        },
        ...(settings.sleep === undefined ? {} : { sleep: settings.sleep }),
      });
    } catch (error) {
      throw this.#fail(error);
    }
    const parts = call.read(reply, () => {
      this.#complete = true;
    });
    this.#parts = parts;
    return parts.next().then(this.#onPart, this.#onError);
  }

  readonly #onPart = (result: PartResult): PartResult | Promise<PartResult> => {
    if (result.done === true) {
      this.#close();
      return DONE;
    }
    const { signal } = this.#options;
    // A reply finished after the caller gave up is not theirs any more: nothing of it may be stored.
    if (result.value.type === "finish" && signal.aborted) {
      const aborted = ChatbotError.aborted(undefined, signal.reason);
      const fail = (): never => {
        throw this.#fail(aborted);
      };
      return Promise.resolve(this.#parts?.return?.()).then(fail, fail);
    }
    if (result.value.type === "finish") this.#meter?.ok();
    return result;
  };

  /** The reader threw: it is finished already. */
  readonly #onError = (error: unknown): never => {
    throw this.#fail(error);
  };

  get #logger() {
    return this.#options.settings.logger ?? silentLogger;
  }

  #map(error: unknown): ChatbotError {
    const { credential, signal } = this.#options;
    return upstreamFailure(error, { credential, signal, deadline: this.#deadline! });
  }

  /** Maps a failure, logs it (not the caller's abort) and ends the request. */
  #fail(error: unknown): ChatbotError {
    const mapped = this.#map(error);
    this.#meter?.failed(
      failureOutcome({ failure: mapped, caught: error, timedOut: this.#deadline?.timedOut ?? false }),
    );
    if (mapped.code !== ErrorCode.Aborted) {
      this.#logger.warn(
        { ...this.#call?.logFields, status: mapped.upstreamStatus, err: mapped.message },
        "upstream request failed",
      );
    }
    this.#close();
    return mapped;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#complete) this.#deadline?.abort();
    this.#deadline?.end();
    this.#meter?.end(); // neither finished nor failed: the consumer left early
  }
}
