/** One unary call through a plain grpc-js `Client`, the messages (de)serialized with protobuf-es. */
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { ChatbotService } from "@chatgptchatbot/proto";
import type * as grpc from "@grpc/grpc-js";

export function callUnary<I extends DescMessage, O extends DescMessage>({
  client,
  method,
  input,
  output,
  message,
}: {
  client: grpc.Client;
  /** A ChatbotService method, e.g. "Chat". */
  method: string;
  input: I;
  output: O;
  message: MessageShape<I>;
}): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${ChatbotService.typeName}/${method}`,
      (value: MessageShape<I>) => Buffer.from(toBinary(input, value)),
      (bytes: Buffer) => fromBinary(output, bytes),
      message,
      (error, value) => (error || value === undefined ? reject(error ?? new Error("no response")) : resolve(value)),
    );
  });
}
