/**
 * gRPC server reflection, `grpc.reflection.v1` and the older `v1alpha` that
 * many tools still ask first (grpcurl, Postman, evans), so clients can list
 * and describe the services without the .proto files. Built on protobuf-es
 * descriptors: every file is served as the serialized FileDescriptorProto
 * protobuf-es keeps for it.
 */
import {
  create,
  type DescEnum,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { v1, v1alpha } from "@chatgptchatbot/proto/reflection";
import { Code, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";

type Request = v1.ServerReflectionRequest;
type Response = v1.ServerReflectionResponse;

/** Every file reachable from the services' files, with the symbols each one defines. */
class DescriptorIndex {
  readonly files = new Map<string, DescFile>();
  readonly #bytes = new Map<string, Uint8Array>();
  /** Fully-qualified symbol → the file defining it. */
  readonly #symbols = new Map<string, DescFile>();
  /** Message type → extension number → file of the extension. */
  readonly #extensions = new Map<string, Map<number, DescFile>>();

  constructor(services: readonly DescService[]) {
    for (const service of services) this.#addFile(service.file);
  }

  #addFile(file: DescFile): void {
    // DescFile.name drops ".proto"; reflection names files as protoc does.
    const name = file.proto.name;
    if (this.files.has(name)) return;
    this.files.set(name, file);
    this.#bytes.set(name, toBinary(FileDescriptorProtoSchema, file.proto));
    for (const dependency of file.dependencies) this.#addFile(dependency);
    for (const message of file.messages) this.#addMessage(file, message);
    for (const enumeration of file.enums) this.#addEnum(file, enumeration);
    for (const extension of file.extensions)
      this.#addExtension(file, extension.typeName, extension.extendee, extension.number);
    for (const service of file.services) {
      this.#symbols.set(service.typeName, file);
      for (const method of service.methods) this.#symbols.set(`${service.typeName}.${method.name}`, file);
    }
  }

  #addMessage(file: DescFile, message: DescMessage): void {
    this.#symbols.set(message.typeName, file);
    for (const field of message.fields) this.#symbols.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) this.#symbols.set(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) this.#addMessage(file, nested);
    for (const nested of message.nestedEnums) this.#addEnum(file, nested);
    for (const extension of message.nestedExtensions) {
      this.#addExtension(file, extension.typeName, extension.extendee, extension.number);
    }
  }

  #addEnum(file: DescFile, enumeration: DescEnum): void {
    this.#symbols.set(enumeration.typeName, file);
    // Enum values are scoped like siblings of their enum (C++ scoping rules).
    const scope = enumeration.typeName.slice(0, Math.max(0, enumeration.typeName.lastIndexOf(".")));
    for (const value of enumeration.values)
      this.#symbols.set(scope === "" ? value.name : `${scope}.${value.name}`, file);
  }

  #addExtension(file: DescFile, typeName: string, extendee: DescMessage, number: number): void {
    this.#symbols.set(typeName, file);
    let numbers = this.#extensions.get(extendee.typeName);
    if (numbers === undefined) {
      numbers = new Map();
      this.#extensions.set(extendee.typeName, numbers);
    }
    numbers.set(number, file);
  }

  symbolFile(symbol: string): DescFile | undefined {
    return this.#symbols.get(symbol.replace(/^\./, ""));
  }

  extensionFile(messageType: string, number: number): DescFile | undefined {
    return this.#extensions.get(messageType)?.get(number);
  }

  extensionNumbers(messageType: string): number[] | undefined {
    if (!this.#symbols.has(messageType)) return undefined;
    return [...(this.#extensions.get(messageType)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The file, then its transitive dependencies not yet sent on this stream. */
  withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean): void => {
      const name = f.proto.name;
      if (!requested && sent.has(name)) return;
      sent.add(name);
      out.push(this.#bytes.get(name)!);
      for (const dependency of f.dependencies) visit(dependency, false);
    };
    visit(file, true);
    return out;
  }
}

/** Answers one reflection request (v1 shapes; v1alpha is converted on the wire). */
function answer(
  index: DescriptorIndex,
  serviceNames: readonly string[],
  request: Request,
  sent: Set<string>,
): Response {
  const reply = (
    messageResponse: MessageInitShape<typeof v1.ServerReflectionResponseSchema>["messageResponse"],
  ): Response =>
    create(v1.ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
  const notFound = (what: string): Response =>
    reply({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } });
  const files = (file: DescFile | undefined, what: string): Response =>
    file === undefined
      ? notFound(what)
      : reply({ case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withDependencies(file, sent) } });

  const { messageRequest: query } = request;
  switch (query.case) {
    case "listServices":
      return reply({ case: "listServicesResponse", value: { service: serviceNames.map((name) => ({ name })) } });
    case "fileByFilename":
      return files(index.files.get(query.value), `file ${JSON.stringify(query.value)}`);
    case "fileContainingSymbol":
      return files(index.symbolFile(query.value), `symbol ${JSON.stringify(query.value)}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = query.value;
      return files(
        index.extensionFile(containingType, extensionNumber),
        `extension ${extensionNumber} of ${containingType}`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(query.value);
      if (numbers === undefined) return notFound(`type ${JSON.stringify(query.value)}`);
      return reply({
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: query.value, extensionNumber: numbers },
      });
    }
    default:
      return reply({
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "the request names no query" },
      });
  }
}

/**
 * Registers `grpc.reflection.v1.ServerReflection` and
 * `grpc.reflection.v1alpha.ServerReflection` on a router, describing
 * `services` (and the reflection services themselves).
 */
export function registerReflection(router: ConnectRouter, { services }: { services: readonly DescService[] }): void {
  const all = [...services, v1.ServerReflection, v1alpha.ServerReflection];
  const index = new DescriptorIndex(all);
  const names = all.map((s) => s.typeName);

  const v1Impl: ServiceImpl<typeof v1.ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) yield answer(index, names, request, sent);
    },
  };
  const v1alphaImpl: ServiceImpl<typeof v1alpha.ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) {
        // The two versions are the same messages under two package names: convert on the wire.
        const converted = fromBinary(
          v1.ServerReflectionRequestSchema,
          toBinary(v1alpha.ServerReflectionRequestSchema, request),
        );
        const response = answer(index, names, converted, sent);
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, response));
      }
    },
  };
  router.service(v1.ServerReflection, v1Impl);
  router.service(v1alpha.ServerReflection, v1alphaImpl);
}
