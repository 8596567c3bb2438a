import { setTimeout as delay } from "node:timers/promises";

/** Waits `ms`, or rejects when `signal` aborts. Tests replace it to observe delays without waiting. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The real sleep: a timer that an abort cancels. */
export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

/** What to do after a failed attempt. */
export type RetryDecision =
  /** Give up: the error is final. */
  | { readonly retry: false }
  /** Try again, after `retryAfterMs` when the upstream named a delay (Retry-After), else after the backoff. */
  | { readonly retry: true; readonly retryAfterMs?: number | undefined };

export interface RetryOptions {
  /** Retries after the first attempt (0: no retry). */
  readonly maxRetries: number;
  /** Aborts the wait between attempts. */
  readonly signal: AbortSignal;
  /** Whether (and when) a failure is worth another attempt. */
  readonly decide: (error: unknown) => RetryDecision;
  /** Called before each wait, for logging. */
  readonly onRetry?: (info: { readonly retry: number; readonly delayMs: number; readonly error: unknown }) => void;
  readonly sleep?: Sleep;
  /** A number in [0, 1) for the jitter (default Math.random). */
  readonly random?: () => number;
}

/** First backoff delay; it doubles per retry up to {@link MAX_BACKOFF_MS}. */
export const INITIAL_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 8_000;
/**
 * The longest Retry-After honoured by waiting. A longer one is not waited
 * for: the failure is reported at once, carrying the delay, so the caller
 * can come back later instead of holding a request open.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Runs `attempt` until it succeeds, the failure is final, or `maxRetries`
 * retries are spent; then rethrows the last failure. Between attempts it
 * waits for the upstream's Retry-After when one was given (up to
 * {@link MAX_RETRY_AFTER_MS}), else an exponential backoff with jitter.
 */
export async function withRetries<T>(attempt: (retry: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { maxRetries, signal, decide, onRetry, sleep = realSleep, random = Math.random } = options;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (error) {
      if (retry >= maxRetries || signal.aborted) throw error;
      const decision = decide(error);
      if (!decision.retry) throw error;
      const { retryAfterMs } = decision;
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) throw error;
      const delayMs = retryAfterMs ?? backoffDelayMs(retry, random);
      onRetry?.({ retry: retry + 1, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

/** The backoff before retry number `retry + 1`: 500 ms doubling to 8 s, minus up to 25 % jitter. */
export function backoffDelayMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(INITIAL_BACKOFF_MS * 2 ** retry, MAX_BACKOFF_MS);
  return Math.round(base * (1 - random() * 0.25));
}

/** Anything headers can be read from: a fetch `Headers` or undici's plain object. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | string[] | undefined>>;

/**
 * The delay an upstream asks for, in ms: `retry-after-ms`, else `Retry-After`
 * as seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const read = (name: string): string | undefined => {
    if (typeof headers.get === "function")
      return (headers as { get(name: string): string | null }).get(name) ?? undefined;
    const value = (headers as Readonly<Record<string, string | string[] | undefined>>)[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const ms = read("retry-after-ms")?.trim();
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = read("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
