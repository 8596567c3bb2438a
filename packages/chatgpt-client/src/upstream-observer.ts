import { ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { transportFailure } from "./http/transport-failure.js";

/**
 * How one upstream request ended: "ok"; "aborted" (the caller gave up, not
 * the upstream's failure); or the kind of failure: "timeout" (the attempt's
 * deadline), "network" (no answer could be read: refused, reset, TLS, proxy),
 * "http_4xx" / "http_5xx" (an error status), "malformed" (a 2xx whose reply
 * was unreadable, reported an error, or ended early), "other".
 */
export type UpstreamOutcome =
  | "ok"
  | "aborted"
  | "timeout"
  | "network"
  | "http_4xx"
  | "http_5xx"
  | "malformed"
  | "other";

/** Which backend spoke to the upstream. */
export type UpstreamBackendName = "openai" | "chatgpt-web";

/**
 * What the backends report about their upstream traffic, for metrics (the
 * program feeds its registry from it). Called synchronously; one that throws
 * is ignored. Nothing passed names a credential, an upstream URL or a prompt.
 */
export interface UpstreamObserver {
  /** A request ended (after its retries), `seconds` after it started, up to the end of its reply. */
  request?(info: {
    readonly backend: UpstreamBackendName;
    readonly outcome: UpstreamOutcome;
    readonly seconds: number;
  }): void;
  /** A failed attempt is retried; `outcome` is why it failed. */
  retry?(info: { readonly backend: UpstreamBackendName; readonly outcome: UpstreamOutcome }): void;
}

/**
 * The outcome of a failed request, from the error the backend reports and
 * what it caught: the deadline decides "timeout", the transport's error code
 * "network", the upstream's status the rest.
 */
export function failureOutcome({
  failure,
  caught,
  timedOut,
}: {
  /** What the backend throws (its translated failure). */
  failure: ChatbotError;
  /** What it caught, before translation (the transport's error, with its code). */
  caught: unknown;
  /** Whether the attempt's deadline cut it. */
  timedOut: boolean;
}): UpstreamOutcome {
  if (failure.code === ErrorCode.Aborted) return "aborted";
  if (timedOut) return "timeout";
  const status = failure.upstreamStatus ?? (caught instanceof ChatbotError ? caught.upstreamStatus : undefined);
  if (status !== undefined) {
    if (status >= 500) return "http_5xx";
    if (status >= 400) return "http_4xx";
    // A failure that came with a success status: the upstream answered, but not a reply we can use.
    return "malformed";
  }
  if (transportFailure(caught) !== undefined) return "network";
  if (failure.message.startsWith("could not reach")) return "network";
  if (caught instanceof SyntaxError) return "malformed";
  return "other";
}

/**
 * Times one upstream request and reports it once: {@link ok}, {@link failed},
 * or (from `finally`, when neither was called: the consumer left early)
 * "aborted".
 */
export class UpstreamMeter {
  readonly #observer: UpstreamObserver | undefined;
  readonly #backend: UpstreamBackendName;
  readonly #started = performance.now();
  #reported = false;

  constructor({ observer, backend }: { observer: UpstreamObserver | undefined; backend: UpstreamBackendName }) {
    this.#observer = observer;
    this.#backend = backend;
  }

  ok(): void {
    this.#report("ok");
  }

  failed(outcome: UpstreamOutcome): void {
    this.#report(outcome);
  }

  /** Reports "aborted" unless the request was reported already. */
  end(): void {
    this.#report("aborted");
  }

  retry(outcome: UpstreamOutcome): void {
    try {
      this.#observer?.retry?.({ backend: this.#backend, outcome });
    } catch {
      // A metric never fails a request.
    }
  }

  #report(outcome: UpstreamOutcome): void {
    if (this.#reported) return;
    this.#reported = true;
    try {
      this.#observer?.request?.({
        backend: this.#backend,
        outcome,
        seconds: (performance.now() - this.#started) / 1000,
      });
    } catch {
      // A metric never fails a request.
    }
  }
}
