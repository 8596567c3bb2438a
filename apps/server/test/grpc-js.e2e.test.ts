/**
 * End to end with `@grpc/grpc-js`, a different gRPC implementation from the
 * server's (as Go and Python clients are): the whole program over a real
 * socket, real backends, and the testkit's fake upstreams on 127.0.0.1.
 */
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { RetryInfoSchema } from "@chatgptchatbot/grpc-server";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health, HealthCheckResponse_ServingStatus } from "@chatgptchatbot/proto/health";
import { v1, v1alpha } from "@chatgptchatbot/proto/reflection";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";
import { statusDetails } from "./status-details.js";

const {
  newSession: NewSession,
  chat: Chat,
  deleteSession: DeleteSession,
  chatStream: ChatStream,
} = ChatbotService.method;
const Status = grpc.status;
const v3 = (apiKey: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: 3, api_key: apiKey, ...extra });

describe("ChatbotService over gRPC with a grpc-js client", () => {
  let openai: FakeOpenAI;
  let web: FakeChatGPTWeb;
  let program: RunningProgram;
  let client: GrpcJsClient;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    web = await startFakeChatGPTWeb();
    program = await startProgram({
      env: {
        API_URL: openai.url,
        CHATGPT_BASE_URL: web.url,
        CHATGPT_V3_COOLDOWN: "30",
        CHATGPT_COOLDOWN: "0",
        CHATBOT_MAX_SESSIONS: "3",
        CHATBOT_MAX_RETRIES: "0",
        GRPC_REFLECTION: "true",
      },
    });
    client = new GrpcJsClient(program.grpcUrl);
  });

  afterAll(async () => {
    client?.close();
    expect(await program?.stop()).toBe(0);
    await openai?.close();
    await web?.close();
  });

  it("drives a session through its whole life", async () => {
    const created = await client.unary(NewSession, {
      config: v3("sk-test-lifecycle-0001"),
      initialPrompt: "You are a cat.",
    });
    expect(created.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.initialResponse).toBe("");

    const chat = await client.unary(Chat, { sessionId: created.sessionId, prompt: "Hello" });
    expect(chat.response).toBe("echo: Hello");
    const upstream = openai.requests.at(-1)!;
    expect(upstream.headers.authorization).toBe("Bearer sk-test-lifecycle-0001");
    expect(upstream.body.messages[0]).toMatchObject({ role: "system", content: "You are a cat." });

    const deleted = await client.unary(DeleteSession, { sessionId: created.sessionId });
    expect(deleted.sessionId).toBe(created.sessionId);
    const again = await grpcError(client.unary(Chat, { sessionId: created.sessionId, prompt: "Hello?" }));
    expect([again.code, again.details]).toEqual([Status.NOT_FOUND, `session not found: ${created.sessionId}`]);
    const twice = await grpcError(client.unary(DeleteSession, { sessionId: created.sessionId }));
    expect([twice.code, twice.details]).toEqual([Status.NOT_FOUND, `session not found: ${created.sessionId}`]);
  });

  it("returns the ChatGPT-web reply to an access-token session's initial prompt", async () => {
    const created = await client.unary(NewSession, {
      config: JSON.stringify({ version: 1, access_token: "test-access-token-0001" }),
      initialPrompt: "Say hi",
    });
    expect(created.initialResponse).not.toBe("");
    expect(web.requests).toHaveLength(1);
    await client.unary(DeleteSession, { sessionId: created.sessionId });
  });

  describe("NewSession errors", () => {
    it("INVALID_ARGUMENT for a missing or bad config, with the old message and the reason", async () => {
      const missing = await grpcError(client.unary(NewSession, { config: "" }));
      expect(missing.code).toBe(Status.INVALID_ARGUMENT);
      expect(missing.details).toBe(
        "version & access_token|api_key is required: config is empty and the server has no default credential",
      );
      const noKey = await grpcError(client.unary(NewSession, { config: '{"version": 3}' }));
      expect(noKey.code).toBe(Status.INVALID_ARGUMENT);
      expect(noKey.details).toBe("version & access_token|api_key is required: config has no api_key");
      const badVersion = await grpcError(
        client.unary(NewSession, { config: '{"version": 2, "api_key": "sk-test-x-000001"}' }),
      );
      expect(badVersion.code).toBe(Status.INVALID_ARGUMENT);
      expect(badVersion.details).toContain("unsupported version 2");
    });

    it("RESOURCE_EXHAUSTED when the session limit is reached", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await client.unary(NewSession, { config: v3(`sk-test-limit-000${i}`) })).sessionId);
      const full = await grpcError(client.unary(NewSession, { config: v3("sk-test-limit-0009") }));
      expect(full.code).toBe(Status.RESOURCE_EXHAUSTED);
      expect(full.details).toContain("limit of 3");
      for (const sessionId of ids) await client.unary(DeleteSession, { sessionId });
    });

    it("UNAVAILABLE when the backend fails on the initial prompt", async () => {
      web.enqueueFault({ kind: "status", status: 500 });
      const error = await grpcError(
        client.unary(NewSession, {
          config: JSON.stringify({ version: 1, access_token: "test-access-token-0002" }),
          initialPrompt: "hi",
        }),
      );
      expect(error.code).toBe(Status.UNAVAILABLE);
      expect(error.details).not.toContain("test-access-token-0002");
    });
  });

  describe("Chat errors", () => {
    it("INVALID_ARGUMENT for an empty session_id or prompt, NOT_FOUND for an unknown session", async () => {
      const { sessionId } = await client.unary(NewSession, { config: v3("sk-test-chaterr-0001") });
      const noId = await grpcError(client.unary(Chat, { sessionId: "", prompt: "x" }));
      expect([noId.code, noId.details]).toEqual([Status.INVALID_ARGUMENT, "session_id is required"]);
      const noPrompt = await grpcError(client.unary(Chat, { sessionId, prompt: "" }));
      expect([noPrompt.code, noPrompt.details]).toEqual([Status.INVALID_ARGUMENT, "prompt is required"]);
      const unknown = await grpcError(
        client.unary(Chat, { sessionId: "00000000-0000-4000-8000-000000000000", prompt: "x" }),
      );
      expect([unknown.code, unknown.details]).toEqual([
        Status.NOT_FOUND,
        "session not found: 00000000-0000-4000-8000-000000000000",
      ]);
      await client.unary(DeleteSession, { sessionId });
    });

    it("UNAVAILABLE when the backend fails, also for a malformed answer (never UNKNOWN)", async () => {
      const a = await client.unary(NewSession, { config: v3("sk-test-upfail-0001") });
      openai.enqueueFault({ kind: "status", status: 500 });
      const failed = await grpcError(client.unary(Chat, { sessionId: a.sessionId, prompt: "x" }));
      expect(failed.code).toBe(Status.UNAVAILABLE);
      const b = await client.unary(NewSession, { config: v3("sk-test-upfail-0002") });
      openai.enqueueFault({ kind: "malformed" });
      const malformed = await grpcError(client.unary(Chat, { sessionId: b.sessionId, prompt: "x" }));
      expect(malformed.code).toBe(Status.UNAVAILABLE);
      expect(malformed.details).not.toMatch(/\n\s+at /); // no stack trace
      for (const { sessionId } of [a, b]) await client.unary(DeleteSession, { sessionId });
    });

    it("RESOURCE_EXHAUSTED during cooldown: the seconds in the message and a google.rpc.RetryInfo detail", async () => {
      const { sessionId } = await client.unary(NewSession, { config: v3("sk-test-cooldown-0001") });
      await client.unary(Chat, { sessionId, prompt: "one" });
      const error = await grpcError(client.unary(Chat, { sessionId, prompt: "two" }));
      expect(error.code).toBe(Status.RESOURCE_EXHAUSTED);
      const seconds = Number(/^cooling down: try again in (\d+) s$/.exec(error.details)?.[1]);
      expect(seconds).toBeGreaterThanOrEqual(29);
      expect(seconds).toBeLessThanOrEqual(30);
      const status = statusDetails(error);
      expect(status?.code).toBe(Status.RESOURCE_EXHAUSTED);
      const detail = status?.details.find((d) => d.typeUrl === "type.googleapis.com/google.rpc.RetryInfo");
      expect(detail).toBeDefined();
      const info = fromBinary(RetryInfoSchema, detail!.value) as unknown as { retryDelay: { seconds: bigint } };
      expect(Number(info.retryDelay.seconds)).toBeGreaterThanOrEqual(seconds - 1);
      await client.unary(DeleteSession, { sessionId });
    });
  });

  describe("DeleteSession errors", () => {
    it("INVALID_ARGUMENT for an empty session_id, NOT_FOUND for an unknown session", async () => {
      const empty = await grpcError(client.unary(DeleteSession, { sessionId: "" }));
      expect([empty.code, empty.details]).toEqual([Status.INVALID_ARGUMENT, "session_id is required"]);
      const unknown = await grpcError(client.unary(DeleteSession, { sessionId: "nope" }));
      expect([unknown.code, unknown.details]).toEqual([Status.NOT_FOUND, "session not found: nope"]);
    });
  });

  it("lets two sessions with different keys chat back to back, and cools two with the same key", async () => {
    const a = await client.unary(NewSession, { config: v3("sk-test-keys-aaaa-0001") });
    const b = await client.unary(NewSession, { config: v3("sk-test-keys-bbbb-0002") });
    expect((await client.unary(Chat, { sessionId: a.sessionId, prompt: "a" })).response).toBe("echo: a");
    expect((await client.unary(Chat, { sessionId: b.sessionId, prompt: "b" })).response).toBe("echo: b");
    const c = await client.unary(NewSession, { config: v3("sk-test-keys-aaaa-0001") });
    const cooled = await grpcError(client.unary(Chat, { sessionId: c.sessionId, prompt: "c" }));
    expect(cooled.code).toBe(Status.RESOURCE_EXHAUSTED);
    for (const { sessionId } of [a, b, c]) await client.unary(DeleteSession, { sessionId });
  });

  it("aborts the upstream request when the client cancels the call mid-Chat", async () => {
    const { sessionId } = await client.unary(NewSession, { config: v3("sk-test-cancel-0001") });
    openai.enqueueFault({ kind: "hang" });
    const aborts = openai.abortedRequests;
    const controller = new AbortController();
    const call = grpcError(client.unary(Chat, { sessionId, prompt: "never mind" }, { signal: controller.signal }));
    await vi.waitFor(() =>
      expect(openai.requests.at(-1)?.body.messages.at(-1)).toMatchObject({ content: "never mind" }),
    );
    controller.abort();
    expect((await call).code).toBe(Status.CANCELLED);
    await openai.waitForAbort(5_000);
    expect(openai.abortedRequests).toBe(aborts + 1);
    await vi.waitFor(() =>
      expect(program.logs.some((l) => l.rpc === "ChatbotService/Chat" && l.code === "canceled")).toBe(true),
    );
    await client.unary(DeleteSession, { sessionId });
  });

  it("ChatStream: sentences reach the client while the upstream still writes, then Chat's reply; errors; cancel", async () => {
    const prompt =
      "One small step. Then another one, and another. We keep on walking until the end of the road. Are we there yet? Not quite!";
    const { sessionId } = await client.unary(NewSession, { config: v3("sk-test-stream-0001") });
    openai.enqueueFault({ kind: "trickle", intervalMs: 20 }); // an event every 20 ms
    const before = openai.eventTimes.length;
    const stream = client.serverStream(ChatStream, { sessionId, prompt });
    await stream.ended;
    const times = openai.eventTimes[before]!;
    expect(stream.messages.map((m) => m.sentence)).toEqual([
      "echo: One small step.",
      "Then another one, and another.",
      "We keep on walking until the end of the road.",
      "Are we there yet?",
      "Not quite!",
      "",
    ]);
    expect(stream.messages.map((m) => m.response)).toEqual(["", "", "", "", "", `echo: ${prompt}`]);
    expect(stream.arrivals[0]).toBeLessThan(times[Math.floor(times.length / 2)]!);
    const cooled = client.serverStream(ChatStream, { sessionId, prompt: "again" });
    expect((await grpcError(cooled.ended)).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(cooled.messages).toEqual([]);
    expect((await grpcError(client.serverStream(ChatStream, { sessionId: "nope", prompt: "x" }).ended)).code).toBe(
      Status.NOT_FOUND,
    );
    await client.unary(DeleteSession, { sessionId });

    const other = await client.unary(NewSession, { config: v3("sk-test-stream-0002") });
    openai.enqueueFault({ kind: "trickle", intervalMs: 50 });
    const aborts = openai.abortedRequests;
    const cancelled = client.serverStream(ChatStream, { sessionId: other.sessionId, prompt });
    await vi.waitFor(() => expect(cancelled.messages).toHaveLength(1));
    cancelled.cancel();
    expect((await grpcError(cancelled.ended)).code).toBe(Status.CANCELLED);
    await openai.waitForAbort(5_000);
    expect(openai.abortedRequests).toBe(aborts + 1);
    await vi.waitFor(() =>
      expect(program.logs.findLast((l) => l.rpc === "ChatbotService/ChatStream")).toMatchObject({
        code: "canceled",
        messages: 1,
      }),
    );
    await client.unary(DeleteSession, { sessionId: other.sessionId });
  });

  it("aborts the upstream request when the client's deadline passes", async () => {
    const { sessionId } = await client.unary(NewSession, { config: v3("sk-test-deadline-0001") });
    openai.enqueueFault({ kind: "hang" });
    const aborts = openai.abortedRequests;
    const error = await grpcError(client.unary(Chat, { sessionId, prompt: "slow" }, { deadlineMs: 300 }));
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    await openai.waitForAbort(5_000);
    expect(openai.abortedRequests).toBe(aborts + 1);
    await client.unary(DeleteSession, { sessionId });
  });

  it("answers the standard health check with SERVING", async () => {
    expect((await client.unary(Health.method.check, { service: "" })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    const named = await client.unary(Health.method.check, { service: "muvtuber.chatbot.v2.ChatbotService" });
    expect(named.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await grpcError(client.unary(Health.method.check, { service: "no.Such" }))).code).toBe(Status.NOT_FOUND);
  });

  it("lists the service and describes its methods through reflection, v1 and v1alpha", async () => {
    // v1alpha has the same message shapes under another package name: one type serves both here.
    type Method = typeof v1.ServerReflection.method.serverReflectionInfo;
    const methods = [
      v1.ServerReflection.method.serverReflectionInfo,
      v1alpha.ServerReflection.method.serverReflectionInfo,
    ];
    for (const method of methods as unknown as Method[]) {
      const [list, file] = await client.bidi(method, [
        { messageRequest: { case: "listServices", value: "" } },
        { messageRequest: { case: "fileContainingSymbol", value: "muvtuber.chatbot.v2.ChatbotService" } },
      ]);
      const services =
        list?.messageResponse.case === "listServicesResponse"
          ? list.messageResponse.value.service.map((s) => s.name)
          : [];
      expect(services).toContain("muvtuber.chatbot.v2.ChatbotService");
      expect(services).toContain("grpc.health.v1.Health");
      const protos =
        file?.messageResponse.case === "fileDescriptorResponse" ? file.messageResponse.value.fileDescriptorProto : [];
      const registry = createFileRegistry(
        create(FileDescriptorSetSchema, { file: protos.map((b) => fromBinary(FileDescriptorProtoSchema, b)) }),
      );
      const service = registry.getService("muvtuber.chatbot.v2.ChatbotService");
      expect(service?.methods.map((m) => [m.name, m.methodKind, m.input.typeName, m.output.typeName])).toEqual([
        ["NewSession", "unary", "muvtuber.chatbot.v2.NewSessionRequest", "muvtuber.chatbot.v2.NewSessionResponse"],
        ["Chat", "unary", "muvtuber.chatbot.v2.ChatRequest", "muvtuber.chatbot.v2.ChatResponse"],
        [
          "DeleteSession",
          "unary",
          "muvtuber.chatbot.v2.DeleteSessionRequest",
          "muvtuber.chatbot.v2.DeleteSessionResponse",
        ],
        ["ChatStream", "server_streaming", "muvtuber.chatbot.v2.ChatRequest", "muvtuber.chatbot.v2.ChatStreamResponse"],
      ]);
    }
  });

  it("logs one line per RPC with method, shortened session id, code and latency, and never a credential", () => {
    const lines = program.logs.filter((l) => l.msg === "rpc" || l.msg === "rpc failed");
    const chat = lines.find((l) => l.rpc === "ChatbotService/Chat" && l.code === "ok");
    expect(chat).toMatchObject({ protocol: "grpc", http: "2.0" });
    expect(chat?.session).toMatch(/^[0-9a-f]{8}$/);
    expect(typeof chat?.ms).toBe("number");
    expect(lines.some((l) => l.rpc === "ChatbotService/Chat" && l.code === "resource_exhausted")).toBe(true);
    const text = JSON.stringify(program.logs);
    expect(text).not.toContain("sk-test-lifecycle-0001");
    expect(text).not.toContain("test-access-token-0001");
    expect(text).not.toContain("Hello"); // prompts only at debug
  });
});
