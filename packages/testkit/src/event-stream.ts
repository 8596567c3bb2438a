import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AbortTracker } from "./abort-tracker.js";

/** Aborts when the reply's connection closes, for whatever reason. */
export function closedSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed) controller.abort();
  else res.once("close", () => controller.abort());
  return controller.signal;
}

/** Waits `ms` unless the reply closes first; returns whether the reply is still open. */
export async function pause(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms > 0) {
    try {
      await sleep(ms, undefined, { signal: closedSignal(res) });
    } catch {
      return false;
    }
  }
  return !res.destroyed;
}

/** Writes `data` and waits until it is handed to the socket (or the socket is gone). */
export function writeFlushed(res: ServerResponse, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    res.write(data, () => resolve());
  });
}

/**
 * Sends already-framed SSE events `intervalMs` apart. With `cut`, sends only the first
 * half (at least one) and then destroys the socket, so the client sees a premature close.
 */
export async function sendEventStream({
  res,
  tracker,
  headers,
  events,
  intervalMs = 0,
  cut = false,
  onSent,
}: {
  res: ServerResponse;
  tracker: AbortTracker;
  headers?: OutgoingHttpHeaders;
  events: readonly string[];
  intervalMs?: number;
  cut?: boolean;
  /** Called as each event is handed to the socket, with its index (for the fakes' clock of sent events). */
  onSent?: (index: number) => void;
}): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...headers,
  });
  res.flushHeaders();
  const count = cut ? Math.max(1, Math.ceil(events.length / 2)) : events.length;
  for (const [index, event] of events.slice(0, count).entries()) {
    if (index > 0 && !(await pause(res, intervalMs))) return;
    if (res.destroyed) return;
    await writeFlushed(res, event);
    onSent?.(index);
  }
  if (cut) tracker.destroy(res);
  else res.end();
}
