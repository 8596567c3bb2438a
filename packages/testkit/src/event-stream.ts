import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AbortTracker } from "./abort-tracker.js";

/**
 * Waits `ms` unless the reply closes first; returns whether the reply is still open.
 * Its close listener is removed when the wait ends: a stream pauses before every
 * event, and listeners left behind would pile up on the response (Node warns at 11).
 */
export async function pause(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms > 0 && !res.destroyed) {
    const closed = new AbortController();
    const onClose = (): void => closed.abort();
    res.once("close", onClose);
    try {
      await sleep(ms, undefined, { signal: closed.signal });
    } catch {
      return false;
    } finally {
      res.off("close", onClose);
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
