/** Decodes the `grpc-status-details-bin` trailer (a google.rpc.Status) a grpc-js client receives. */
import { create, createFileRegistry, type DescMessage, fromBinary } from "@bufbuild/protobuf";
import {
  type Any,
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "google/rpc/status.proto",
    package: "google.rpc",
    dependency: ["google/protobuf/any.proto"],
    syntax: "proto3",
    messageType: [
      {
        name: "Status",
        field: [
          { name: "code", jsonName: "code", number: 1, label: Label.OPTIONAL, type: Type.INT32 },
          { name: "message", jsonName: "message", number: 2, label: Label.OPTIONAL, type: Type.STRING },
          {
            name: "details",
            jsonName: "details",
            number: 3,
            label: Label.REPEATED,
            type: Type.MESSAGE,
            typeName: ".google.protobuf.Any",
          },
        ],
      },
    ],
  }),
  (name) => (name === file_google_protobuf_any.proto.name ? file_google_protobuf_any : undefined),
);
const StatusSchema: DescMessage = registry.getMessage("google.rpc.Status")!;

export interface StatusDetails {
  code: number;
  message: string;
  details: Any[];
}

/** The google.rpc.Status of a failed grpc-js call, or undefined when the server sent none. */
export function statusDetails(error: grpc.ServiceError): StatusDetails | undefined {
  const raw = error.metadata.get("grpc-status-details-bin")[0];
  if (raw === undefined) return undefined;
  const bytes = typeof raw === "string" ? Buffer.from(raw, "base64") : raw;
  return fromBinary(StatusSchema, bytes) as unknown as StatusDetails;
}
