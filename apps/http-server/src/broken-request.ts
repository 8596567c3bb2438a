import type { IncomingMessage } from "node:http";

/**
 * Whether `thrown` is the failure of the request itself: its body could not
 * be read because the client sent malformed chunked framing (Node has then
 * answered 400 and closed the socket) or went away mid-upload. Either way the
 * client caused it: a 400, logged at info without a stack, never the
 * "internal error" of a bug.
 *
 * Recognised by identity: `@hono/node-server` hands the app the Node request
 * as `env.incoming`, and a body read fails with the very error that destroyed
 * that request (`incoming.errored`, "aborted" / ECONNRESET). A bug that merely
 * happens while a client disconnects is a different error and stays a bug.
 */
export function isBrokenRequest(thrown: unknown, env: unknown): boolean {
  const errored = (env as { incoming?: Pick<IncomingMessage, "errored"> } | undefined)?.incoming?.errored;
  if (errored === null || errored === undefined) return false;
  for (let current = thrown, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current === errored) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** What the client is told (if it still listens) and the log says. */
export const BROKEN_REQUEST_MESSAGE =
  "the request body could not be read: its chunked framing was malformed or the upload was cut off";
