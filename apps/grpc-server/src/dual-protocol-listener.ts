import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { drainBeforeClose } from "@chatgptchatbot/node-http";

/** The client connection preface every HTTP/2 connection starts with (RFC 9113, 3.4). */
export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** How long a new connection may stay silent before it is dropped (ms). */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * Takes a new HTTP/2 stream and answers it itself, or returns false to leave
 * it to the request handler (through Node's compatibility layer).
 */
export type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

export interface DualProtocolListener {
  /** The TCP listener; call `listen` on it. */
  readonly server: net.Server;
  /** Serves connections that started with the HTTP/2 preface (gRPC, and h2 gRPC-web / Connect). */
  readonly http2: http2.Http2Server;
  /** Serves every other connection as HTTP/1.1 (gRPC-web, Connect, curl, browsers). */
  readonly http1: http.Server;
  /** Every open TCP connection. */
  readonly sockets: ReadonlySet<net.Socket>;
  /** Connections whose first bytes have not arrived yet (handed to neither server). */
  readonly unclassified: ReadonlySet<net.Socket>;
}

/**
 * One cleartext port for both HTTP versions. Node's cleartext HTTP/2 server
 * cannot fall back to HTTP/1.1 (`allowHTTP1` needs TLS and ALPN), so this
 * listener reads the first bytes of each connection: the HTTP/2 preface (what
 * gRPC clients send with prior knowledge, as `grpc.Dial(addr, insecure)`
 * does) hands the socket to an HTTP/2 server, anything else to an HTTP/1.1
 * server. The bytes read are put back (`unshift`) before the hand-over.
 * `onStream`, when given, sees every HTTP/2 stream first; the streams it
 * leaves go to `handler` as request and response objects. An HTTP/1.1
 * connection that closes after an answer first reads what its client is still
 * sending ({@link drainBeforeClose}).
 */
export function createDualProtocolListener(handler: RequestHandler, onStream?: StreamHandler): DualProtocolListener {
  const h2 = http2.createServer();
  h2.on("request", handler);
  if (onStream !== undefined) takeStreamsFirst(h2, onStream);
  const h1 = http.createServer(handler);
  // A connection that closes after an answer first reads the body the answer left unread (a refused upload), so
  // the client reads the answer rather than a reset.
  drainBeforeClose(h1);
  // node:http starts tracking connections (idle ones for closeIdleConnections,
  // and the headers/request timeouts) when it hears "listening"; this server
  // never listens itself, so tell it.
  h1.emit("listening");
  const sockets = new Set<net.Socket>();
  const unclassified = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    unclassified.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      unclassified.delete(socket);
    });
    let head: Buffer = Buffer.alloc(0);

    const cleanup = (): void => {
      unclassified.delete(socket);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("end", onEnd);
      socket.setTimeout(0);
    };
    const onError = (): void => {
      cleanup();
      socket.destroy();
    };
    const onEnd = (): void => {
      cleanup();
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, HTTP2_PREFACE.length);
      const isHttp2 = head.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
      if (isHttp2 && head.length < HTTP2_PREFACE.length) return; // a prefix so far: read on
      cleanup();
      socket.pause();
      socket.unshift(head);
      if (isHttp2) {
        // The HTTP/2 session consumes the socket's pending bytes, then its handle.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };

    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
  });

  return { server, http2: h2, http1: h1, sockets, unclassified };
}

/**
 * Node's HTTP/2 server builds its compatibility layer's request and response
 * objects in a "stream" listener it adds when a "request" listener is added.
 * This puts `onStream` in front of that listener: a stream `onStream` takes
 * never gets the two objects (nor a "request" event); the others get exactly
 * what Node's own listener does (including its CONNECT and Expect handling).
 */
function takeStreamsFirst(h2: http2.Http2Server, onStream: StreamHandler): void {
  const compat = h2.listeners("stream") as ((...args: unknown[]) => void)[];
  h2.removeAllListeners("stream");
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
    if (onStream(stream, headers)) return;
    for (const listener of compat) listener.call(h2, stream, headers, ...rest);
  });
}
