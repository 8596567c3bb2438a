import type { Logger } from "@chatgptchatbot/core";

/** How often a shared store's readiness is looked at: a change shows in health within about this (the issue: 5 s). */
export const STORE_HEALTH_INTERVAL_MS = 1_000;

/** The last readiness seen, and a way to stop looking. */
export interface StoreHealthWatch {
  /** Whether the store was ready at the last look (true before the first). */
  ready(): boolean;
  stop(): void;
}

/**
 * Looks at a store's readiness every `intervalMs` (a cheap, local check: no
 * call to the store) and calls `onChange` when it turns, so health can say
 * NOT_SERVING while the shared store is unreachable and SERVING once it is
 * back. The timer does not keep the process alive.
 */
export function watchStoreHealth({
  isReady,
  onChange,
  logger,
  intervalMs = STORE_HEALTH_INTERVAL_MS,
}: {
  isReady: () => boolean;
  onChange: (ready: boolean) => void;
  logger?: Logger;
  intervalMs?: number;
}): StoreHealthWatch {
  let last = true;
  const look = (): void => {
    const now = isReady();
    if (now === last) return;
    last = now;
    if (now) logger?.info({}, "session store reachable: health SERVING");
    else logger?.warn({}, "session store unreachable: health NOT_SERVING");
    onChange(now);
  };
  const timer = setInterval(look, intervalMs);
  timer.unref();
  return {
    ready: () => last,
    stop: () => clearInterval(timer),
  };
}
