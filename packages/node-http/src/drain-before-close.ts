import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** How long a closing connection goes on reading a request body its answer left unread (ms). */
export const DEFAULT_DRAIN_MS = 5_000;
/** How much of such a body it reads before it gives up and closes anyway (bytes on the wire). */
export const DEFAULT_DRAIN_BYTES = 32 * 1024 * 1024;

export interface DrainBeforeCloseOptions {
  /** At most this long (ms) after the answer; default {@link DEFAULT_DRAIN_MS}. */
  readonly maxMs?: number;
  /** At most this many bytes after the answer; default {@link DEFAULT_DRAIN_BYTES}. */
  readonly maxBytes?: number;
}

/**
 * An HTTP/1.1 connection that ends with an answer (the client sent
 * `Connection: close`, or the server is shutting down) is closed by Node as
 * soon as the answer is flushed. When the server answered before reading the
 * whole request body (413 for a body over the limit, say) the client is still
 * uploading: its next bytes reach a closed socket, the kernel resets the
 * connection, and the client often sees `EPIPE` or `ECONNRESET` instead of the
 * answer it was sent (RFC 9112, 9.6, "the TCP reset problem").
 *
 * With this, such a connection first reads the rest of the body (and throws
 * it away, as Node already does on a keep-alive connection), then closes as
 * Node would have. The wait is bounded: after `maxMs` or `maxBytes` the
 * connection is closed anyway, as before. A request whose body was read whole,
 * or whose client has stopped sending, closes at once, as before.
 *
 * A kept-alive connection reads the rest of such a body as Node does, but
 * within the same bounds: a client that goes on sending a body nobody reads
 * (an endless chunked upload after its 413) is cut off, where Node would read
 * and discard it until its request timeout (300 s).
 */
export function drainBeforeClose(server: Server, options: DrainBeforeCloseOptions = {}): void {
  const { maxMs = DEFAULT_DRAIN_MS, maxBytes = DEFAULT_DRAIN_BYTES } = options;
  if (!(Number.isInteger(maxMs) && maxMs > 0)) throw new RangeError(`maxMs must be a whole number > 0, got ${maxMs}`);
  if (!(Number.isInteger(maxBytes) && maxBytes > 0))
    throw new RangeError(`maxBytes must be a whole number > 0, got ${maxBytes}`);

  // The request each connection serves now: Node ends a connection only after the last one's answer.
  const requests = new WeakMap<Socket, IncomingMessage>();
  // Connections reading the rest of a body an answer left unread.
  const draining = new WeakSet<Socket>();
  const bounds = { maxMs, maxBytes };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    requests.set(socket, req);
    // Node's own "finish" listener ran first: a connection that closes is draining by now. One kept alive reads the
    // rest of the body too (Node's req._dump()), as long as the client sends it: bounded the same way.
    res.once("finish", () => {
      if (!req.complete && !socket.destroyed && !draining.has(socket)) drain(socket, req, draining, () => {}, bounds);
    });
  });
  server.on("connection", (socket: Socket) => {
    const closeSoon = socket.destroySoon;
    socket.destroySoon = function drainThenCloseSoon(this: Socket): void {
      const req = requests.get(this);
      if (req === undefined || req.complete || this.destroyed || this.readableEnded) closeSoon.call(this);
      else drain(this, req, draining, () => closeSoon.call(this), bounds);
    };
  });
}

/**
 * Reads until the parser has seen the end of `req`'s body, or until the
 * client stops sending, then calls `close`. Past either bound it destroys the
 * socket at once, as Node would have.
 */
function drain(
  socket: Socket,
  req: IncomingMessage,
  draining: WeakSet<Socket>,
  close: () => void,
  { maxMs, maxBytes }: Required<DrainBeforeCloseOptions>,
): void {
  draining.add(socket);
  let read = 0;
  const stop = (): void => {
    draining.delete(socket);
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", closeNow);
    socket.off("close", stop);
  };
  const closeNow = (): void => {
    stop();
    close();
  };
  const giveUp = (): void => {
    stop();
    socket.destroy();
  };
  // Node's own "data" listener (the parser) came first, so it has parsed the chunk by now. Listening for "data"
  // takes the socket from the native parser back to JavaScript, a switch Node supports.
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (req.complete) closeNow();
    else if (read > maxBytes) giveUp();
    else socket.resume(); // the parser pauses the socket when a destroyed request refuses a chunk
  };
  // Kept referenced: while it waits, a shutdown's wait for this connection must not leave an empty event loop.
  const timer = setTimeout(giveUp, maxMs);
  socket.on("data", onData);
  socket.once("end", closeNow);
  socket.once("close", stop);
  // What Node does to a body its handler never read (req._dump()), for one its handler read part of and paused, or
  // whose stream it destroyed (a library that stops reading at its size limit): the rest flows to no one.
  req.removeAllListeners("data");
  req.resume();
  socket.resume();
}
