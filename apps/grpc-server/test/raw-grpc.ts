import * as http2 from "node:http2";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";

/** What a raw HTTP/2 call got back: headers (without `date`), trailers, the body's bytes and the stream's reset code. */
export interface RawAnswer {
  readonly headers: Record<string, unknown>;
  readonly trailers: Record<string, unknown> | undefined;
  readonly body: Buffer;
  readonly rstCode: number;
}

/** A length-prefixed gRPC message (flags 0, or 1 for "compressed"). */
export function frame(bytes: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

/** The binary message `init` of `schema`, framed. */
export function framedMessage<T extends DescMessage>(schema: T, init: MessageInitShape<T>): Buffer {
  return frame(toBinary(schema, create(schema, init)));
}

export interface RawCallOptions {
  readonly headers?: http2.OutgoingHttpHeaders;
  /** Sent in these pieces, one write each (default: the whole body at once). */
  readonly pieces?: number;
  /** Called with the request stream once sent (to reset it, for example). */
  readonly sent?: (stream: http2.ClientHttp2Stream) => void;
}

/**
 * One POST over its own HTTP/2 connection, below any gRPC library: the bytes
 * and headers are exactly the test's, and so is what comes back.
 */
export async function rawCall(
  url: string,
  path: string,
  body: Buffer,
  { headers = {}, pieces = 1, sent }: RawCallOptions = {},
): Promise<RawAnswer> {
  const session = http2.connect(url);
  session.on("error", () => {});
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    stream.on("error", () => {});
    let answerHeaders: Record<string, unknown> = {};
    let trailers: Record<string, unknown> | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      const { date: _date, ...rest } = h;
      answerHeaders = Object.fromEntries(Object.entries(rest)); // without node's symbol keys
    });
    stream.on("trailers", (t) => {
      trailers = Object.fromEntries(Object.entries(t));
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<void>((resolve) => stream.once("close", resolve));
    const size = Math.max(1, Math.ceil(body.length / pieces));
    for (let at = 0; at < body.length; at += size) {
      stream.write(body.subarray(at, at + size));
      await new Promise((resolve) => setImmediate(resolve));
    }
    stream.end();
    sent?.(stream);
    await closed;
    return { headers: answerHeaders, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 };
  } finally {
    session.close();
  }
}
