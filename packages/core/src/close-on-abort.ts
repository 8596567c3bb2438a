import { ChatbotError } from "./errors.js";

/**
 * `source`, closed (its `finally` blocks run) as soon as `signal` aborts, even
 * while its consumer has stopped pulling. A generator paused at a `yield` runs
 * no code of its own, so it cannot notice an abort; a transport whose client
 * went away may never call `next()` or `return()` again, and whatever the
 * generator holds (a session's turn, an upstream request) would be held
 * forever. A signal already aborted is left to `source` itself (it throws
 * Aborted on its first step), so the consumer still sees the error; a
 * consumer that pulls again after a close by the abort gets Aborted too.
 */
export function closeOnAbort<T>(
  source: AsyncGenerator<T, void, undefined>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T, void, undefined> {
  if (signal === undefined || signal.aborted) return source;
  // return() waits behind a step in progress (that step fails on the abort by itself); at a `yield` it closes at once.
  let closedByAbort = false;
  const close = (): void => {
    closedByAbort = true;
    void source.return(undefined).catch(() => undefined);
  };
  signal.addEventListener("abort", close, { once: true });
  return (async function* () {
    try {
      yield* source;
      // Closed at a `yield` by the abort: the source ended quietly, but its consumer (still pulling) must
      // hear why, as it would had the abort come during a step.
      if (closedByAbort) throw ChatbotError.aborted(undefined, signal.reason);
    } finally {
      signal.removeEventListener("abort", close);
    }
  })();
}
