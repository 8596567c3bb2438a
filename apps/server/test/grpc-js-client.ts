/**
 * A `@grpc/grpc-js` client for any protobuf-es method: a different gRPC
 * implementation from the server's, as Go and Python clients are. Messages
 * are (de)serialized with protobuf-es, so no .proto loading is needed.
 */
import {
  create,
  type DescMessage,
  type DescMethodBiDiStreaming,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

export interface CallOptions {
  /** The call's deadline, in ms from now. */
  readonly deadlineMs?: number;
  /** Cancels the call (grpc-js's `call.cancel()`, an RST_STREAM with CANCEL) when it aborts. */
  readonly signal?: AbortSignal;
}

export class GrpcJsClient {
  readonly #client: grpc.Client;

  /** `url`: "http://host:port"; plaintext HTTP/2 with prior knowledge, like `grpc.Dial(addr, insecure)`. */
  constructor(url: string) {
    this.#client = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    input: MessageInitShape<I>,
    { deadlineMs, signal }: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const options: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    return new Promise((resolve, reject) => {
      const call = this.#client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (message: MessageInitShape<I>) => Buffer.from(toBinary(method.input, create(method.input, message))),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        input,
        new grpc.Metadata(),
        options,
        (error: grpc.ServiceError | null, response?: MessageShape<O>) => {
          signal?.removeEventListener("abort", cancel);
          if (error !== null) reject(error);
          else resolve(response!);
        },
      );
      const cancel = (): void => call.cancel();
      if (signal?.aborted) cancel();
      else signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /**
   * Starts a server-streaming call: `messages` fills as responses arrive (and
   * `arrivals` with when, in ms since the epoch: the fake upstreams' clock),
   * `ended` settles when the server ends the stream (rejects with its error).
   */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    input: MessageInitShape<I>,
  ): { messages: MessageShape<O>[]; arrivals: number[]; ended: Promise<void>; cancel(): void } {
    const call = this.#client.makeServerStreamRequest(
      `/${method.parent.typeName}/${method.name}`,
      (message: MessageInitShape<I>) => Buffer.from(toBinary(method.input, create(method.input, message))),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      input,
      new grpc.Metadata(),
      {},
    );
    const messages: MessageShape<O>[] = [];
    const arrivals: number[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (message: MessageShape<O>) => {
        arrivals.push(performance.timeOrigin + performance.now());
        messages.push(message);
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    return { messages, arrivals, ended, cancel: () => call.cancel() };
  }

  /** Sends every request, half-closes, and collects every response. */
  bidi<I extends DescMessage, O extends DescMessage>(
    method: DescMethodBiDiStreaming<I, O>,
    inputs: readonly MessageInitShape<I>[],
  ): Promise<MessageShape<O>[]> {
    const call = this.#client.makeBidiStreamRequest(
      `/${method.parent.typeName}/${method.name}`,
      (message: MessageInitShape<I>) => Buffer.from(toBinary(method.input, create(method.input, message))),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      new grpc.Metadata(),
      {},
    );
    const out: MessageShape<O>[] = [];
    return new Promise((resolve, reject) => {
      call.on("data", (message: MessageShape<O>) => out.push(message));
      call.on("error", reject);
      call.on("end", () => resolve(out));
      for (const input of inputs) call.write(input);
      call.end();
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** The rejection of a grpc-js call, for assertions. */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

export { grpc };
