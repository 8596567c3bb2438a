/**
 * The muvtuber.chatbot.v2 wire contract: message schemas and the
 * `ChatbotService` descriptor, generated from `proto/` by protobuf-es v2.
 *
 * Build messages with `create(NewSessionRequestSchema, {...})` from
 * `@bufbuild/protobuf`; hand `ChatbotService` to Connect's router or clients.
 */
export * from "./gen/muvtuber/chatbot/v2/chatbot_pb.js";
