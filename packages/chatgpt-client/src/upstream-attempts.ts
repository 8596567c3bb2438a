import { type AskPart, ChatbotError, ErrorCode, silentLogger } from "@chatgptchatbot/core";
import { AttemptDeadline } from "./http/attempt-deadline.js";
import { withRetries } from "./http/retry.js";
import { decideUpstreamRetry, upstreamFailure, type VendorErrors } from "./upstream-failure.js";
import type { UpstreamOptions } from "./upstream-options.js";

export interface UpstreamAttemptsOptions<Reply> {
  /** The request's credential: masked out of every message and kept cause. */
  readonly credential: string;
  /** The caller's signal: aborting it aborts the current attempt and the waits between attempts. */
  readonly signal: AbortSignal;
  /** The backend's settings: the deadline of one attempt, the retries, the logger, how retries wait. */
  readonly settings: UpstreamOptions;
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
  readonly read: (reply: Reply, readToEnd: () => void) => AsyncIterable<AskPart>;
  /** What the backend knows of its client library's own errors (none for plain undici). */
  readonly vendor?: VendorErrors | undefined;
}

/**
 * The one flow of an upstream request, the same for every backend: each
 * attempt under a total deadline ({@link AttemptDeadline}); retries with
 * backoff or the upstream's Retry-After ({@link withRetries}), each logged
 * ("upstream request failed, retrying"); a timed-out attempt is final (another
 * would hold the session's turn for a second full timeout); the reply read
 * into parts under the same deadline, its finish withheld when the caller
 * has gone meanwhile; whatever fails mapped to one
 * ChatbotError ({@link upstreamFailure}) and logged once as a warning
 * ("upstream request failed"), unless the caller gave up.
 */
export async function* runUpstreamAttempts<Reply>(options: UpstreamAttemptsOptions<Reply>): AsyncGenerator<AskPart, void, undefined> {
  const { credential, signal, settings, logFields, open, read, vendor } = options;
  const logger = settings.logger ?? silentLogger;
  const deadline = new AttemptDeadline({ signal, timeoutMs: settings.requestTimeoutMs });
  const failure = (error: unknown) => upstreamFailure(error, { credential, signal, deadline, vendor });
  let complete = false;
  try {
    const reply = await withRetries(() => open(deadline.start()), {
      maxRetries: settings.maxRetries,
      signal,
      decide: (error) => (deadline.timedOut ? { retry: false } : decideUpstreamRetry(error, vendor)),
      onRetry: ({ retry, delayMs, error }) =>
        logger.info({ ...logFields, retry, delayMs, err: failure(error).message }, "upstream request failed, retrying"),
      ...(settings.sleep === undefined ? {} : { sleep: settings.sleep }),
    });
    const readToEnd = (): void => {
      complete = true;
    };
    for await (const part of read(reply, readToEnd)) {
      // A reply finished after the caller gave up is not theirs any more: nothing of it may be stored.
      if (part.type === "finish" && signal.aborted) throw ChatbotError.aborted(undefined, signal.reason);
      yield part;
    }
  } catch (error) {
    const mapped = failure(error);
    if (mapped.code !== ErrorCode.Aborted) {
      logger.warn({ ...logFields, status: mapped.upstreamStatus, err: mapped.message }, "upstream request failed");
    }
    throw mapped;
  } finally {
    if (!complete) deadline.abort();
    deadline.end();
  }
}
