import type { Readable } from "node:stream";

/** What is read, at most, to finish a reply nobody wants any more, so its connection can be reused. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/**
 * Reads and drops the rest of a body (at most `limit` bytes, then closes it)
 * so its keep-alive connection goes back to the pool: for a reply read up to
 * its end marker (`data: [DONE]`) whose connection may still carry a few
 * bytes. Read a body with `body.iterator({ destroyOnReturn: false })`, so that
 * leaving the loop early neither destroys it (then drain it) nor keeps it (then
 * destroy it).
 */
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
