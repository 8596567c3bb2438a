/**
 * `google.rpc.RetryInfo`, the standard error detail that tells a client how
 * long to wait before retrying (google/rpc/error_details.proto). Only this one
 * message is needed, so its descriptor is built here at start instead of
 * vendoring the whole googleapis file: same full name, same field number, so
 * any client that knows the real message decodes it.
 */
import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import {
  type Duration,
  DurationSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
} from "@bufbuild/protobuf/wkt";

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "google/rpc/error_details.proto",
    package: "google.rpc",
    dependency: ["google/protobuf/duration.proto"],
    syntax: "proto3",
    messageType: [
      {
        name: "RetryInfo",
        field: [
          {
            name: "retry_delay",
            jsonName: "retryDelay",
            number: 1,
            label: FieldDescriptorProto_Label.OPTIONAL,
            type: FieldDescriptorProto_Type.MESSAGE,
            typeName: ".google.protobuf.Duration",
          },
        ],
      },
    ],
  }),
  (name) => (name === file_google_protobuf_duration.proto.name ? file_google_protobuf_duration : undefined),
);

/** The descriptor of `google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }`. */
export const RetryInfoSchema: DescMessage = registry.getMessage("google.rpc.RetryInfo")!;

/** The shape of a RetryInfo message as protobuf-es builds it. */
export type RetryInfoInit = { retryDelay: Duration };

/** A RetryInfo detail for a delay in milliseconds (whole seconds plus nanos). */
export function retryInfo(delayMs: number): { desc: DescMessage; value: RetryInfoInit } {
  const ms = Math.max(0, Math.ceil(delayMs));
  return {
    desc: RetryInfoSchema,
    value: {
      retryDelay: create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 }),
    },
  };
}
