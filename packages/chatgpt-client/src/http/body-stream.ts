import type { Readable } from "node:stream";

/** What is read, at most, to finish a reply nobody wants any more, so its connection can be reused. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/**
 * A web `ReadableStream` over an undici response body, one chunk buffered.
 *
 * Cancelling it (a reader that stops early, as the `openai` SDK does after
 * `data: [DONE]`) does not destroy the connection, as the body's own
 * iterator would: it drains the rest of the reply (up to 64 KiB, else the
 * connection is closed), so the keep-alive connection goes back to the pool.
 * To close the connection instead, abort the request's signal or destroy
 * the body.
 */
export function bodyStream(body: Readable): ReadableStream<Uint8Array> {
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        body.pause();
        body.on("data", (chunk: Uint8Array) => {
          if (cancelled) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 1) <= 0) body.pause();
        });
        body.on("end", () => {
          if (!cancelled) controller.close();
        });
        body.on("error", (error: unknown) => {
          if (!cancelled) controller.error(error);
        });
        body.on("close", () => {
          if (!cancelled && !body.readableEnded && body.errored === null) {
            controller.error(Object.assign(new Error("the response body was closed"), { code: "UND_ERR_SOCKET" }));
          }
        });
      },
      pull() {
        body.resume();
      },
      cancel() {
        cancelled = true;
        drain(body);
      },
    },
    { highWaterMark: 1 },
  );
}

/** Reads and drops the rest of a body (at most `limit` bytes, then closes it) so its connection is freed. */
export function drain(body: Readable, limit: number = DRAIN_LIMIT_BYTES): void {
  if (body.destroyed || body.readableEnded) return;
  let bytes = 0;
  body.on("error", () => {});
  body.on("data", (chunk: Uint8Array) => {
    bytes += chunk.byteLength;
    if (bytes > limit) body.destroy();
  });
  body.resume();
}
