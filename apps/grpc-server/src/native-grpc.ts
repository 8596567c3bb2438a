/**
 * Native gRPC calls of ChatbotService, served on the raw HTTP/2 stream.
 *
 * muvtuber's clients (and every grpc-go, grpc-js and grpcio client) call
 * NewSession, Chat, DeleteSession and ChatStream as plain binary gRPC.
 * Through connect-node each call costs Node's HTTP/2 compatibility layer (a
 * request and a response object over the stream) and connect's per-call
 * pipeline of async iterables: a third or more of the server's CPU per chat
 * (BENCHMARKS.md, issue 16). This handler reads the one length-prefixed
 * request message itself and answers with headers, the message (or, for
 * ChatStream, each message as the pool yields it) and the status trailers,
 * calling the same service implementation, the same error table
 * ({@link toConnectError}), the same token check, log line and call observer
 * as the connect path. Everything else stays with connect on the same port:
 * gRPC-web, Connect, `application/grpc+json`, compressed requests, health,
 * reflection, and any browser's request (so CORS and the host guard keep
 * applying where they matter).
 *
 * Where it answers differently from connect (by design, for the better):
 * - the deadline of `grpc-timeout` ends the call with DEADLINE_EXCEEDED when
 *   it passes, also while the call waits for its session's turn;
 * - replies are never compressed (no `grpc-encoding` header): they are a few
 *   hundred bytes of text;
 * - a malformed request (size, framing, bytes that are not the message) gets
 *   a log line and a metric too (connect refuses those before its interceptors).
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { Logger } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { type Authorize, unauthenticated } from "./access-token.js";
import { MAX_TIMER_MS } from "./bounded-timeout.js";
import { type CallObserver, notifyCall } from "./call-observer.js";
import type { CallContext, ChatbotServiceImpl } from "./chatbot-service.js";
import type { StreamHandler } from "./dual-protocol-listener.js";
import { toConnectError } from "./errors.js";
import { encodeGrpcMessage } from "./grpc-message.js";
import { isBrowserRequest } from "./host-guard.js";
import { codeName, logRpcFailed, logRpcOk, type RpcLine, sessionOf } from "./rpc-log.js";
import { UNDECLARED_COMPRESSION } from "./undecodable-request.js";

export interface NativeGrpcOptions {
  /** The service implementation connect serves too. */
  readonly service: ChatbotServiceImpl;
  readonly logger: Logger;
  /** The largest request message accepted, in bytes; a larger one gets RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  readonly onCall?: CallObserver;
  /** When given, every call needs `authorization: Bearer <token>` that this accepts (else UNAUTHENTICATED). */
  readonly authorize?: Authorize;
}

/** One method: its descriptor and the implementation that answers it (one message, or a stream of them). */
type Route = {
  readonly input: DescMessage;
  readonly output: DescMessage;
  /** As the log line names it: `ChatbotService/Chat`. */
  readonly rpc: string;
  /** As the call observer names it: `muvtuber.chatbot.v2.ChatbotService/Chat`. */
  readonly method: string;
} & (
  | { readonly kind: "unary"; readonly call: (request: never, context: CallContext) => unknown }
  | { readonly kind: "stream"; readonly call: (request: never, context: CallContext) => AsyncIterable<unknown> }
);

/** The content types of binary gRPC (connect matches them case-insensitively, so does this). */
const BINARY_GRPC = /^application\/grpc(?:\+proto)?$/i;

/** The length prefix of a gRPC message: a flags byte and a big-endian 32-bit length. */
const PREFIX_BYTES = 5;
const COMPRESSED_FLAG = 0b1;

const RESPONSE_HEADERS = { ":status": 200, "content-type": "application/grpc+proto" } as const;
const OK_TRAILERS = { "grpc-status": "0" } as const;

/**
 * The handler of ChatbotService over binary gRPC; see the file's comment for
 * which streams it takes.
 */
export function createNativeGrpc(options: NativeGrpcOptions): StreamHandler {
  const { service } = options;
  const routes = new Map<string, Route>();
  const names = (method: DescMethod) => ({
    input: method.input,
    output: method.output,
    rpc: `${method.parent.name}/${method.name}`,
    method: `${method.parent.typeName}/${method.name}`,
  });
  const unary = <I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    call: (request: MessageShape<I>, context: CallContext) => MessageInitShape<O> | Promise<MessageInitShape<O>>,
  ): void => {
    routes.set(`/${method.parent.typeName}/${method.name}`, {
      ...names(method as DescMethod),
      kind: "unary",
      call: call as never,
    });
  };
  const streaming = <I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    call: (request: MessageShape<I>, context: CallContext) => AsyncIterable<MessageInitShape<O>>,
  ): void => {
    routes.set(`/${method.parent.typeName}/${method.name}`, {
      ...names(method as DescMethod),
      kind: "stream",
      call: call as never,
    });
  };
  unary(ChatbotService.method.newSession, service.newSession);
  unary(ChatbotService.method.chat, service.chat);
  unary(ChatbotService.method.deleteSession, service.deleteSession);
  streaming(ChatbotService.method.chatStream, service.chatStream);

  return (stream, headers) => {
    const path = headers[":path"];
    const route = path === undefined ? undefined : routes.get(path);
    if (route === undefined || headers[":method"] !== "POST" || !isPlainGrpc(headers)) return false;
    new NativeCall(stream, headers, route, options).start();
    return true;
  };
}

/** Binary gRPC, uncompressed, not from a browser: what this handler serves. */
function isPlainGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers["content-type"];
  if (type === undefined || !BINARY_GRPC.test(type)) return false;
  const encoding = headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") return false;
  return !isBrowserRequest(headers);
}

/** One call, from the request's headers to the trailers. */
class NativeCall {
  readonly #stream: ServerHttp2Stream;
  readonly #headers: IncomingHttpHeaders;
  readonly #route: Route;
  readonly #options: NativeGrpcOptions;
  readonly #started = performance.now();
  readonly #controller = new AbortController();
  readonly #line: RpcLine;
  #chunks: Buffer[] = [];
  #received = 0;
  /** The message's length once its prefix is read. */
  #length: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, route: Route, options: NativeGrpcOptions) {
    this.#stream = stream;
    this.#headers = headers;
    this.#route = route;
    this.#options = options;
    this.#line = { rpc: route.rpc, protocol: "grpc", http: "2.0" };
  }

  start(): void {
    const stream = this.#stream;
    // A reset or a broken connection surfaces here; the call's own end is "close".
    stream.on("error", () => {});
    stream.once("close", () => {
      if (!this.#finished) this.#finish(new ConnectError("the client went away", Code.Canceled));
    });

    const timeout = parseTimeout(header(this.#headers, "grpc-timeout"), Number.MAX_SAFE_INTEGER);
    if (timeout.error !== undefined) {
      this.#finish(timeout.error);
      return;
    }
    const { authorize } = this.#options;
    if (authorize !== undefined && !authorize(header(this.#headers, "authorization") ?? undefined)) {
      this.#finish(unauthenticated());
      return;
    }
    if (timeout.timeoutMs !== undefined) {
      if (timeout.timeoutMs <= 0) {
        this.#finish(deadlineExceeded());
        return;
      }
      // A deadline past what a timer can hold (~24.8 days) is as good as none (Node would fire it at once).
      if (timeout.timeoutMs <= MAX_TIMER_MS) {
        this.#timer = setTimeout(() => this.#finish(deadlineExceeded()), timeout.timeoutMs);
      }
    }
    stream.on("data", (chunk: Buffer) => this.#read(chunk));
    stream.once("end", () => this.#ended());
  }

  #read(chunk: Buffer): void {
    if (this.#finished) return;
    this.#chunks.push(chunk);
    this.#received += chunk.length;
    if (this.#length === undefined) {
      if (this.#received < PREFIX_BYTES) return;
      const head = this.#joined();
      const flags = head[0]!;
      const length = head.readUInt32BE(1);
      const limit = this.#options.maxMessageBytes;
      if (length > limit) {
        this.#finish(
          new ConnectError(
            `message size ${length} is larger than configured readMaxBytes ${limit}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      if ((flags & COMPRESSED_FLAG) !== 0) {
        this.#finish(new ConnectError(UNDECLARED_COMPRESSION, Code.InvalidArgument));
        return;
      }
      this.#length = length;
    }
    if (this.#received > PREFIX_BYTES + this.#length) {
      this.#finish(
        new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented),
      );
    }
  }

  /** The bytes received so far, as one buffer (they are one chunk nearly always). */
  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#received)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #ended(): void {
    if (this.#finished) return;
    if (this.#received === 0) {
      this.#finish(new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented));
      return;
    }
    if (this.#length === undefined || this.#received < PREFIX_BYTES + this.#length) {
      this.#finish(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument));
      return;
    }
    const bytes = this.#joined().subarray(PREFIX_BYTES);
    this.#chunks = [];
    let request: unknown;
    try {
      request = fromBinary(this.#route.input, bytes);
    } catch (error) {
      // Bytes that are not the method's message: the client's mistake (as on the connect path, see undecodable-request.ts).
      const reason = error instanceof Error ? error.message : String(error);
      this.#finish(new ConnectError(`parse binary: ${reason}`, Code.InvalidArgument));
      return;
    }
    this.#line.session = sessionOf(request);
    if (this.#route.kind === "unary") void this.#invoke(request);
    else void this.#invokeStream(request);
  }

  async #invoke(request: unknown): Promise<void> {
    let answer: unknown;
    try {
      answer = await (this.#route.call as (request: never, context: CallContext) => unknown)(request as never, {
        signal: this.#controller.signal,
      });
    } catch (error) {
      this.#finish(toConnectError(error));
      return;
    }
    if (this.#finished) return;
    let bytes: Uint8Array;
    try {
      bytes = this.#encode(answer);
    } catch (error) {
      this.#finish(toConnectError(error));
      return;
    }
    this.#line.session ??= sessionOf(answer);
    this.#finish(undefined, bytes);
  }

  /**
   * A server-streaming call: each message goes out as the implementation
   * yields it (headers with the first), then the status. When the client
   * goes away or the deadline passes, the work is aborted and the
   * implementation's iterator closed (its `finally` releases the session's turn).
   */
  async #invokeStream(request: unknown): Promise<void> {
    this.#line.messages = 0;
    let iterator: AsyncIterator<unknown> | undefined;
    try {
      const messages = (this.#route.call as (request: never, context: CallContext) => AsyncIterable<unknown>)(
        request as never,
        { signal: this.#controller.signal },
      );
      iterator = messages[Symbol.asyncIterator]();
      for (;;) {
        const next = await iterator.next();
        if (this.#finished) break;
        if (next.done) {
          this.#finish(undefined);
          return;
        }
        const frame = framed(this.#encode(next.value));
        if (!this.#write(frame)) await this.#drained();
        this.#line.messages++;
        if (this.#finished) break;
      }
    } catch (error) {
      this.#finish(toConnectError(error));
      return;
    }
    // Ended from outside (the client went away, the deadline): stop the work where it waits.
    await iterator?.return?.()?.catch(() => {});
  }

  #encode(message: unknown): Uint8Array {
    const output = this.#route.output;
    return toBinary(output, create(output, message as MessageInitShape<DescMessage>));
  }

  /** One message of a stream; the headers go out with the first. False when the stream's buffer is full. */
  #write(frame: Buffer): boolean {
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return true;
    if (!stream.headersSent) stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    return stream.write(frame);
  }

  /** Until the stream takes more (or is gone). */
  #drained(): Promise<void> {
    const stream = this.#stream;
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
    });
  }

  /**
   * Ends the call once, whatever ended it first (the answer, an error, the
   * deadline, the client going away): aborts the work still running, answers
   * if the stream is still open, and writes the log line and the metric.
   */
  #finish(error: ConnectError | undefined, message?: Uint8Array): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#chunks = [];
    if (error !== undefined) this.#controller.abort(error);
    this.#answer(error, message);
    const elapsed = performance.now() - this.#started;
    const { logger, onCall } = this.#options;
    if (error === undefined) logRpcOk(logger, this.#line, Math.round(elapsed));
    else logRpcFailed(logger, this.#line, error, Math.round(elapsed));
    if (onCall !== undefined) {
      notifyCall(onCall, {
        method: this.#route.method,
        protocol: "grpc",
        code: error === undefined ? "ok" : codeName(error.code),
        seconds: elapsed / 1000,
      });
    }
  }

  /**
   * Headers (unless a streamed message took them already), the message (if
   * any), then the status as trailers, as connect-node sends them.
   */
  #answer(error: ConnectError | undefined, message: Uint8Array | undefined): void {
    const stream = this.#stream;
    if (stream.destroyed || stream.closed || stream.writableEnded) return;
    const trailers = error === undefined ? OK_TRAILERS : errorTrailers(error);
    try {
      if (!stream.headersSent) stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      stream.once("wantTrailers", () => {
        if (!stream.destroyed) stream.sendTrailers(trailers);
      });
      stream.end(message === undefined ? undefined : framed(message));
    } catch {
      stream.destroy(); // the stream ended between the check and the write
    }
    // Whatever the client still sends is not read: let it flow away instead of filling the window.
    if (!stream.readableEnded) stream.resume();
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === "string" ? value : null;
}

function deadlineExceeded(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/** `grpc-status`, `grpc-message` (escaped as the gRPC spec says), details and the error's metadata. */
function errorTrailers(error: ConnectError): Record<string, string> {
  const trailers: Record<string, string> = {};
  for (const [name, value] of setTrailerStatus(new Headers(), error)) trailers[name] = value;
  trailers["grpc-message"] = encodeGrpcMessage(error.rawMessage);
  return trailers;
}

/** The message with its 5-byte prefix (flags 0: not compressed). */
function framed(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}
