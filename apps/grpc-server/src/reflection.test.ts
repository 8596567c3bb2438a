import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { v1, v1alpha } from "@chatgptchatbot/proto/reflection";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { registerReflection } from "./reflection.js";

const transport = createRouterTransport((router) => registerReflection(router, { services: [ChatbotService, Health] }));

async function ask(requests: v1.ServerReflectionRequest["messageRequest"][]) {
  const client = createClient(v1.ServerReflection, transport);
  const out: v1.ServerReflectionResponse[] = [];
  async function* input() {
    for (const messageRequest of requests) yield { host: "localhost", messageRequest };
  }
  for await (const response of client.serverReflectionInfo(input())) out.push(response);
  return out;
}

describe("server reflection", () => {
  it("lists the services", async () => {
    const [response] = await ask([{ case: "listServices", value: "" }]);
    expect(response?.messageResponse.case).toBe("listServicesResponse");
    const names =
      response?.messageResponse.case === "listServicesResponse"
        ? response.messageResponse.value.service.map((s) => s.name)
        : [];
    expect(names).toEqual([
      "muvtuber.chatbot.v2.ChatbotService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    expect(response?.validHost).toBe("localhost");
    expect(response?.originalRequest?.messageRequest.case).toBe("listServices");
  });

  it("returns the file containing a service, a method or a message, from which the service can be rebuilt", async () => {
    for (const symbol of [
      "muvtuber.chatbot.v2.ChatbotService",
      "muvtuber.chatbot.v2.ChatbotService.Chat",
      "muvtuber.chatbot.v2.ChatbotService.ChatStream",
      ".muvtuber.chatbot.v2.ChatResponse",
      "muvtuber.chatbot.v2.ChatStreamResponse.sentence",
      "muvtuber.chatbot.v2.ChatResponse.response",
    ]) {
      const [response] = await ask([{ case: "fileContainingSymbol", value: symbol }]);
      expect(response?.messageResponse.case, symbol).toBe("fileDescriptorResponse");
      if (response?.messageResponse.case !== "fileDescriptorResponse") continue;
      const files = response.messageResponse.value.fileDescriptorProto.map((b) =>
        fromBinary(FileDescriptorProtoSchema, b),
      );
      expect(files[0]?.name).toBe("muvtuber/chatbot/v2/chatbot.proto");
      const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
      const service = registry.getService("muvtuber.chatbot.v2.ChatbotService");
      expect(service?.methods.map((m) => `${m.name}(${m.input.name}) ${m.methodKind} ${m.output.name}`)).toEqual([
        "NewSession(NewSessionRequest) unary NewSessionResponse",
        "Chat(ChatRequest) unary ChatResponse",
        "DeleteSession(DeleteSessionRequest) unary DeleteSessionResponse",
        "ChatStream(ChatRequest) server_streaming ChatStreamResponse",
      ]);
    }
  });

  it("returns a file by name, and a dependency only once per stream", async () => {
    const responses = await ask([
      { case: "fileByFilename", value: "grpc/reflection/v1/reflection.proto" },
      { case: "fileByFilename", value: "grpc/reflection/v1/reflection.proto" },
    ]);
    const names = responses.map((r) =>
      r.messageResponse.case === "fileDescriptorResponse"
        ? r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)
        : [],
    );
    expect(names[0]?.[0]).toBe("grpc/reflection/v1/reflection.proto");
    expect(names[1]).toEqual(["grpc/reflection/v1/reflection.proto"]);
  });

  it("answers NOT_FOUND for what it does not know, and lists no extensions of a known message", async () => {
    const [file, symbol, extensions, unknownType] = await ask([
      { case: "fileByFilename", value: "nope.proto" },
      { case: "fileContainingSymbol", value: "no.Such" },
      { case: "allExtensionNumbersOfType", value: "muvtuber.chatbot.v2.ChatRequest" },
      { case: "allExtensionNumbersOfType", value: "no.Such" },
    ]);
    for (const r of [file, symbol, unknownType]) {
      expect(r?.messageResponse.case).toBe("errorResponse");
      if (r?.messageResponse.case === "errorResponse") expect(r.messageResponse.value.errorCode).toBe(Code.NotFound);
    }
    expect(extensions?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "muvtuber.chatbot.v2.ChatRequest", extensionNumber: [] },
    });
  });

  it("serves v1alpha with the same answers", async () => {
    const client = createClient(v1alpha.ServerReflection, transport);
    async function* input() {
      yield { host: "", messageRequest: { case: "listServices" as const, value: "*" } };
      yield { host: "", messageRequest: { case: "fileContainingSymbol" as const, value: "grpc.health.v1.Health" } };
    }
    const out: v1alpha.ServerReflectionResponse[] = [];
    for await (const response of client.serverReflectionInfo(input())) out.push(response);
    expect(out[0]?.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
    expect(out[0]?.messageResponse.case).toBe("listServicesResponse");
    const files =
      out[1]?.messageResponse.case === "fileDescriptorResponse" ? out[1].messageResponse.value.fileDescriptorProto : [];
    expect(fromBinary(FileDescriptorProtoSchema, files[0]!).name).toBe("grpc/health/v1/health.proto");
  });
});
