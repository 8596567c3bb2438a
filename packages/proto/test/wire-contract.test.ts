/**
 * The wire contract existing clients (Go, Python, Node) depend on, read back
 * from the generated descriptors: package, service and method names, and
 * every field's name, number and type. A change to `proto/` that breaks a
 * client fails here, even when the regenerated code still compiles.
 */
import { create, type DescMessage, type DescService, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema, HealthCheckResponseSchema } from "../src/health.js";
import {
  ChatbotService,
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  DeleteSessionRequestSchema,
  DeleteSessionResponseSchema,
  file_muvtuber_chatbot_v2_chatbot,
  NewSessionRequestSchema,
  NewSessionResponseSchema,
} from "../src/index.js";
import { v1, v1alpha } from "../src/reflection.js";

/** Each field as `name = number: type`, in declaration order. */
function fields(message: DescMessage): string[] {
  return message.fields.map((field) => {
    const type = field.fieldKind === "scalar" ? ScalarType[field.scalar].toLowerCase() : field.fieldKind;
    return `${field.name} = ${field.number}: ${type}`;
  });
}

/** Each method as `name: kind input → output`, and its gRPC path. */
function methods(service: DescService): string[] {
  return service.methods.map(
    (m) => `/${service.typeName}/${m.name}: ${m.methodKind} ${m.input.typeName} → ${m.output.typeName}`,
  );
}

describe("muvtuber.chatbot.v2", () => {
  it("is the package of the file, which holds exactly the service and its seven messages", () => {
    expect(file_muvtuber_chatbot_v2_chatbot.proto.package).toBe("muvtuber.chatbot.v2");
    expect(file_muvtuber_chatbot_v2_chatbot.services.map((s) => s.typeName)).toEqual([
      "muvtuber.chatbot.v2.ChatbotService",
    ]);
    expect(file_muvtuber_chatbot_v2_chatbot.messages.map((m) => m.typeName)).toEqual([
      "muvtuber.chatbot.v2.NewSessionRequest",
      "muvtuber.chatbot.v2.NewSessionResponse",
      "muvtuber.chatbot.v2.ChatRequest",
      "muvtuber.chatbot.v2.ChatResponse",
      "muvtuber.chatbot.v2.DeleteSessionRequest",
      "muvtuber.chatbot.v2.DeleteSessionResponse",
      "muvtuber.chatbot.v2.ChatStreamResponse",
    ]);
  });

  it("ChatbotService has the three unary methods and ChatStream (server streaming) with their input and output types", () => {
    expect(methods(ChatbotService)).toEqual([
      "/muvtuber.chatbot.v2.ChatbotService/NewSession: unary muvtuber.chatbot.v2.NewSessionRequest → muvtuber.chatbot.v2.NewSessionResponse",
      "/muvtuber.chatbot.v2.ChatbotService/Chat: unary muvtuber.chatbot.v2.ChatRequest → muvtuber.chatbot.v2.ChatResponse",
      "/muvtuber.chatbot.v2.ChatbotService/DeleteSession: unary muvtuber.chatbot.v2.DeleteSessionRequest → muvtuber.chatbot.v2.DeleteSessionResponse",
      "/muvtuber.chatbot.v2.ChatbotService/ChatStream: server_streaming muvtuber.chatbot.v2.ChatRequest → muvtuber.chatbot.v2.ChatStreamResponse",
    ]);
    expect(ChatbotService.method.newSession.input).toBe(NewSessionRequestSchema);
    expect(ChatbotService.method.chat.output).toBe(ChatResponseSchema);
    expect(ChatbotService.method.chatStream.input).toBe(ChatRequestSchema);
    expect(ChatbotService.method.chatStream.output).toBe(ChatStreamResponseSchema);
  });

  it("every message has exactly its fields, names, numbers and types", () => {
    expect(fields(NewSessionRequestSchema)).toEqual(["config = 1: string", "initial_prompt = 2: string"]);
    expect(fields(NewSessionResponseSchema)).toEqual(["session_id = 1: string", "initial_response = 2: string"]);
    expect(fields(ChatRequestSchema)).toEqual(["session_id = 1: string", "prompt = 2: string"]);
    expect(fields(ChatResponseSchema)).toEqual(["response = 2: string"]);
    expect(fields(DeleteSessionRequestSchema)).toEqual(["session_id = 1: string"]);
    expect(fields(DeleteSessionResponseSchema)).toEqual(["session_id = 1: string"]);
    expect(fields(ChatStreamResponseSchema)).toEqual(["sentence = 1: string", "response = 2: string"]);
  });

  it("ChatResponse keeps field 1 reserved (a removed field's number is never reused)", () => {
    expect(ChatResponseSchema.proto.reservedRange.map(({ start, end }) => ({ start, end }))).toEqual([
      { start: 1, end: 2 },
    ]);
  });

  it("encodes to the bytes clients expect, and back", () => {
    const reply = toBinary(ChatResponseSchema, create(ChatResponseSchema, { response: "hi" }));
    expect(reply).toEqual(new Uint8Array([0x12, 0x02, 0x68, 0x69])); // field 2, length-delimited, "hi"
    expect(fromBinary(ChatResponseSchema, reply).response).toBe("hi");
    const request = toBinary(
      NewSessionRequestSchema,
      create(NewSessionRequestSchema, { config: "a", initialPrompt: "b" }),
    );
    expect(request).toEqual(new Uint8Array([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62])); // field 1 "a", field 2 "b"
    expect(fromBinary(NewSessionRequestSchema, request)).toMatchObject({ config: "a", initialPrompt: "b" });
    const segment = toBinary(ChatStreamResponseSchema, create(ChatStreamResponseSchema, { sentence: "a" }));
    expect(segment).toEqual(new Uint8Array([0x0a, 0x01, 0x61])); // field 1 "a"; the empty response is not sent
    const last = toBinary(ChatStreamResponseSchema, create(ChatStreamResponseSchema, { response: "ab" }));
    expect(last).toEqual(new Uint8Array([0x12, 0x02, 0x61, 0x62])); // field 2 "ab", like ChatResponse
  });

  it("the three unary methods are declared exactly as before ChatStream was added (their wire paths and types)", () => {
    const unary = file_muvtuber_chatbot_v2_chatbot.proto.service[0]?.method
      .slice(0, 3)
      .map((m) => [m.name, m.inputType, m.outputType]);
    expect(unary).toEqual([
      ["NewSession", ".muvtuber.chatbot.v2.NewSessionRequest", ".muvtuber.chatbot.v2.NewSessionResponse"],
      ["Chat", ".muvtuber.chatbot.v2.ChatRequest", ".muvtuber.chatbot.v2.ChatResponse"],
      ["DeleteSession", ".muvtuber.chatbot.v2.DeleteSessionRequest", ".muvtuber.chatbot.v2.DeleteSessionResponse"],
    ]);
    expect(
      file_muvtuber_chatbot_v2_chatbot.proto.service[0]?.method
        .slice(0, 3)
        .some((m) => m.serverStreaming || m.clientStreaming),
    ).toBe(false);
  });
});

describe("gRPC health and reflection", () => {
  it("grpc.health.v1.Health: Check (unary) and Watch (server streaming)", () => {
    expect(methods(Health)).toEqual([
      "/grpc.health.v1.Health/Check: unary grpc.health.v1.HealthCheckRequest → grpc.health.v1.HealthCheckResponse",
      "/grpc.health.v1.Health/Watch: server_streaming grpc.health.v1.HealthCheckRequest → grpc.health.v1.HealthCheckResponse",
    ]);
    expect(Health.method.check.input).toBe(HealthCheckRequestSchema);
    expect(Health.method.watch.output).toBe(HealthCheckResponseSchema);
  });

  it("server reflection in both v1 and v1alpha: ServerReflectionInfo (bidi streaming)", () => {
    expect(methods(v1.ServerReflection)).toEqual([
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo: bidi_streaming grpc.reflection.v1.ServerReflectionRequest → grpc.reflection.v1.ServerReflectionResponse",
    ]);
    expect(methods(v1alpha.ServerReflection)).toEqual([
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo: bidi_streaming grpc.reflection.v1alpha.ServerReflectionRequest → grpc.reflection.v1alpha.ServerReflectionResponse",
    ]);
  });
});
