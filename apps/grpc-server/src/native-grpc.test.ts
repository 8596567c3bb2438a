import { constants } from "node:http2";
import { gzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  DeleteSessionRequestSchema,
  NewSessionRequestSchema,
  NewSessionResponseSchema,
} from "@chatgptchatbot/proto";
import { recordingLogger, type Script, ScriptedBackend, upstreamDown } from "@chatgptchatbot/testkit/testing";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frame, framedMessage, type RawAnswer, rawCall } from "../test/raw-grpc.js";
import { serveScripted } from "../test/scripted-server.js";
import type { CallRecord } from "./call-observer.js";
import { RetryInfoSchema } from "./retry-info.js";

const SERVICE = "/muvtuber.chatbot.v2.ChatbotService";
const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-native-0001" });
const TOKEN = "Bearer test-native-token";
const AUTH = { authorization: TOKEN };

/** The same server twice: the native unary path (the default) and connect-node alone. */
async function twoServers({
  maxMessageBytes = 1024,
  apiKeyMs = 0,
  script,
}: {
  maxMessageBytes?: number;
  apiKeyMs?: number;
  script?: Script;
} = {}) {
  const options = { authorize: (value: string | undefined) => value === TOKEN, maxMessageBytes };
  const backend = () => (script === undefined ? {} : { backend: new ScriptedBackend({ script }) });
  const native = await serveScripted({ ...options }, { apiKeyMs, ...backend() });
  const connect = await serveScripted({ ...options, nativeGrpc: false }, { apiKeyMs, ...backend() });
  return { native: native.url, connect: connect.url };
}

async function newSession(url: string): Promise<string> {
  const answer = await rawCall(
    url,
    `${SERVICE}/NewSession`,
    framedMessage(NewSessionRequestSchema, { config: CONFIG }),
    {
      headers: AUTH,
    },
  );
  expect(answer.trailers?.["grpc-status"]).toBe("0");
  return fromBinary(NewSessionResponseSchema, answer.body.subarray(5)).sessionId;
}

/** One request's case: the method, and the body given the session the test made on that server. */
interface Case {
  readonly name: string;
  readonly method: string;
  readonly body: (sessionId: string) => Buffer;
  readonly headers?: Record<string, string>;
}

const chatIn = (sessionId: string): Buffer => framedMessage(ChatRequestSchema, { sessionId, prompt: "hi & : ; é 😀" });

const CASES: Case[] = [
  { name: "a chat", method: "Chat", body: chatIn, headers: AUTH },
  { name: "a chat in no session", method: "Chat", body: () => chatIn("no-such-session"), headers: AUTH },
  { name: "a chat without a token", method: "Chat", body: chatIn },
  { name: "a chat with a wrong token", method: "Chat", body: chatIn, headers: { authorization: "Bearer nope" } },
  {
    name: "a config that is not JSON (escaped grpc-message)",
    method: "NewSession",
    body: () => framedMessage(NewSessionRequestSchema, { config: "{bad & : ; é" }),
    headers: AUTH,
  },
  {
    name: "a session deleted",
    method: "DeleteSession",
    body: (sessionId) => framedMessage(DeleteSessionRequestSchema, { sessionId }),
    headers: AUTH,
  },
  { name: "no message at all", method: "Chat", body: () => Buffer.alloc(0), headers: AUTH },
  {
    name: "bytes that are not the message",
    method: "Chat",
    body: () => frame(Buffer.from([0xff, 0xff, 0xff])),
    headers: AUTH,
  },
  { name: "a cut-off prefix", method: "Chat", body: () => Buffer.from([0, 0, 0]), headers: AUTH },
  { name: "a cut-off message", method: "Chat", body: (id) => chatIn(id).subarray(0, 12), headers: AUTH },
  { name: "a message over the limit", method: "Chat", body: () => frame(Buffer.alloc(2000, 0x41)), headers: AUTH },
  { name: "two messages", method: "Chat", body: (id) => Buffer.concat([chatIn(id), chatIn(id)]), headers: AUTH },
  {
    name: "a message flagged compressed without grpc-encoding",
    method: "Chat",
    body: () => frame(gzipSync(Buffer.from("x")), 1),
    headers: AUTH,
  },
  { name: "a malformed grpc-timeout", method: "Chat", body: chatIn, headers: { ...AUTH, "grpc-timeout": "soon" } },
  {
    name: "the +proto content type",
    method: "Chat",
    body: chatIn,
    headers: { ...AUTH, "content-type": "application/grpc+proto" },
  },
];

/** What two answers must share: status, headers, trailers, and the message (session ids made alike). */
function comparable(answer: RawAnswer, sessionId: string): unknown {
  const text = (value: unknown): unknown =>
    typeof value === "string" ? value.replaceAll(sessionId, "<session>") : value;
  return {
    headers: answer.headers,
    trailers: Object.fromEntries(Object.entries(answer.trailers ?? {}).map(([k, v]) => [k, text(v)])),
    body: answer.body.toString("latin1").replaceAll(sessionId, "<session>"),
    rstCode: answer.rstCode,
  };
}

describe("native gRPC unary calls", () => {
  it.each(CASES)("answer $name exactly as connect-node does", async ({ method, body, headers }) => {
    const { native, connect } = await twoServers();
    const [nativeId, connectId] = await Promise.all([newSession(native), newSession(connect)]);
    const ours = await rawCall(
      native,
      `${SERVICE}/${method}`,
      body(nativeId),
      headers === undefined ? {} : { headers },
    );
    const theirs = await rawCall(
      connect,
      `${SERVICE}/${method}`,
      body(connectId),
      headers === undefined ? {} : { headers },
    );
    expect(comparable(ours, nativeId)).toEqual(comparable(theirs, connectId));
    expect(ours.trailers?.["grpc-status"]).toBeDefined();
  });

  it.each([
    {
      name: "a reply of several sentences",
      script: undefined,
      prompt: "Hello there, my friend. How are you today? I am fine, thanks!",
    },
    {
      name: "an upstream that fails after the first sentence",
      script: async function* () {
        yield { type: "text" as const, text: "The first sentence is long enough to go out on its own. And then" };
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw upstreamDown();
      } as Script,
      prompt: "hi",
    },
  ])("stream ChatStream's messages for $name exactly as connect-node does", async ({ script, prompt }) => {
    const { native, connect } = await twoServers(script === undefined ? {} : { script });
    const [nativeId, connectId] = await Promise.all([newSession(native), newSession(connect)]);
    const call = (url: string, sessionId: string) =>
      rawCall(url, `${SERVICE}/ChatStream`, framedMessage(ChatRequestSchema, { sessionId, prompt }), { headers: AUTH });
    const [ours, theirs] = await Promise.all([call(native, nativeId), call(connect, connectId)]);
    expect(comparable(ours, nativeId)).toEqual(comparable(theirs, connectId));
    expect(ours.body.length).toBeGreaterThan(0);
  });

  it("answers ChatStream for no session before any message, as connect-node does", async () => {
    const { native, connect } = await twoServers();
    const body = framedMessage(ChatRequestSchema, { sessionId: "no-such-session", prompt: "hi" });
    const ours = await rawCall(native, `${SERVICE}/ChatStream`, body, { headers: AUTH });
    const theirs = await rawCall(connect, `${SERVICE}/ChatStream`, body, { headers: AUTH });
    expect(comparable(ours, "")).toEqual(comparable(theirs, ""));
    expect(ours.trailers?.["grpc-status"]).toBe("5");
  });

  it("stops a ChatStream's work when the client resets it after the first message, and logs it as cancelled", async () => {
    let aborted: AbortSignal | undefined;
    const backend = new ScriptedBackend({
      script: async function* (request) {
        aborted = request.signal;
        yield { type: "text", text: "The first sentence is long enough to go out on its own. And then" };
        await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }));
        throw new DOMException("The operation was aborted.", "AbortError");
      },
    });
    const logger = recordingLogger();
    const { url } = await serveScripted({ logger }, { backend });
    const sessionId = await newSession(url);
    const answer = await rawCall(url, `${SERVICE}/ChatStream`, chatIn(sessionId), {
      sent: (stream) => stream.once("data", () => stream.close(constants.NGHTTP2_CANCEL)),
    });
    expect(answer.body.length).toBeGreaterThan(5);
    await expect.poll(() => aborted?.aborted).toBe(true);
    await expect
      .poll(() => logger.lines.find((line) => line.obj.rpc === "ChatbotService/ChatStream")?.obj)
      .toMatchObject({ protocol: "grpc", messages: 1, code: "canceled" });
    // The session's turn was released: the next chat in it is answered.
    backend.script = (request) => `echo: ${request.prompt}`;
    const next = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId));
    expect(next.trailers?.["grpc-status"]).toBe("0");
  });

  it("answers a cooldown as connect does, with the RetryInfo detail", async () => {
    const { native, connect } = await twoServers({ apiKeyMs: 60_000 });
    const answers = await Promise.all(
      [native, connect].map(async (url) => {
        const sessionId = await newSession(url);
        await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), { headers: AUTH });
        return rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), { headers: AUTH });
      }),
    );
    const [ours, theirs] = answers as [RawAnswer, RawAnswer];
    expect(ours.trailers?.["grpc-status"]).toBe("8");
    expect(ours.trailers?.["grpc-message"]).toBe(theirs.trailers?.["grpc-message"]);
    expect(ours.trailers?.["grpc-status-details-bin"]).toBeDefined();
    const error = findTrailerError(new Headers(ours.trailers as Record<string, string>));
    expect(error?.code).toBe(8);
    const [retry] = error?.findDetails(RetryInfoSchema) ?? [];
    expect(Number((retry as { retryDelay?: { seconds: bigint } } | undefined)?.retryDelay?.seconds)).toBeGreaterThan(
      50,
    );
  });

  it("reads a message that arrives a byte at a time", async () => {
    const { url } = await serveScripted({});
    const sessionId = await newSession(url);
    const answer = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), { pieces: 40 });
    expect(answer.trailers?.["grpc-status"]).toBe("0");
    expect(fromBinary(ChatResponseSchema, answer.body.subarray(5)).response).toMatch(/^echo: hi & : ; é/);
  });

  it("leaves what it does not serve to connect: JSON, compressed requests, browsers", async () => {
    const logger = recordingLogger();
    const { url } = await serveScripted({ logger, allowHost: () => false });
    const sessionId = await newSession(url);
    // application/grpc+json: connect answers in JSON.
    const json = await rawCall(
      url,
      `${SERVICE}/Chat`,
      frame(Buffer.from(JSON.stringify({ sessionId, prompt: "hi" }))),
      {
        headers: { "content-type": "application/grpc+json" },
      },
    );
    expect(json.headers["content-type"]).toBe("application/grpc+json");
    expect(JSON.parse(json.body.subarray(5).toString())).toEqual({ response: "echo: hi" });
    // A gzip-compressed request: connect decompresses it.
    const gzipped = await rawCall(
      url,
      `${SERVICE}/Chat`,
      frame(gzipSync(framedMessage(ChatRequestSchema, { sessionId, prompt: "zip" }).subarray(5)), 1),
      { headers: { "grpc-encoding": "gzip" } },
    );
    expect(gzipped.trailers?.["grpc-status"]).toBe("0");
    // A browser's request: the host guard (which refuses every host here) still sees it.
    const browser = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), {
      headers: { origin: "http://evil.test" },
    });
    expect(browser.headers[":status"]).toBe(403);
  });

  it("ends the call with DEADLINE_EXCEEDED when grpc-timeout passes, and aborts the work", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const seen: CallRecord[] = [];
    const { url } = await serveScripted({ onCall: (call) => seen.push(call) }, { backend });
    const sessionId = await newSession(url);
    const answer = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), { headers: { "grpc-timeout": "150m" } });
    expect(answer.trailers).toMatchObject({ "grpc-status": "4", "grpc-message": "the operation timed out" });
    expect(backend.requests.at(-1)?.signal.aborted).toBe(true);
    expect(seen.at(-1)).toMatchObject({
      method: "muvtuber.chatbot.v2.ChatbotService/Chat",
      protocol: "grpc",
      code: "deadline_exceeded",
    });
  });

  it("ends a Connect or gRPC-web call whose deadline passes with DEADLINE_EXCEEDED too, logged as such", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const seen: CallRecord[] = [];
    const { url } = await serveScripted({ onCall: (call) => seen.push(call) }, { backend });
    const sessionId = await newSession(url);
    const connect = await fetch(`${url}${SERVICE}/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": "150" },
      body: JSON.stringify({ sessionId, prompt: "too slow" }),
    });
    expect(await connect.json()).toMatchObject({ code: "deadline_exceeded" });
    expect(backend.requests.at(-1)?.signal.aborted).toBe(true);
    expect(seen.at(-1)).toMatchObject({ protocol: "connect", code: "deadline_exceeded" });
    const web = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), {
      headers: { "content-type": "application/grpc-web+proto", "grpc-timeout": "150m" },
    });
    // gRPC-web's status: in the headers of a trailers-only answer, else in the body's trailer frame.
    const webStatus = web.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(web.body.toString("latin1"))?.[1];
    expect(webStatus).toBe("4");
    expect(seen.at(-1)).toMatchObject({ protocol: "grpc-web", code: "deadline_exceeded" });
  });

  it("takes a grpc-timeout longer than a timer can hold as no deadline, not as one already passed", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const { url } = await serveScripted({}, { backend });
    const sessionId = await newSession(url);
    // The reply comes 100 ms later: long after a deadline taken as "at once" would have ended the call.
    const answer = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), {
      headers: { "grpc-timeout": "99999999H" },
      sent: () => setTimeout(() => backend.release(), 100),
    });
    expect(answer.trailers?.["grpc-status"]).toBe("0");
  });

  it("takes a Connect timeout longer than a timer holds as no deadline too, with no timer warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const { url } = await serveScripted({});
      const res = await fetch(`${url}${SERVICE}/NewSession`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "connect-timeout-ms": "9999999999",
        },
        body: JSON.stringify({ config: CONFIG }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ sessionId: expect.any(String) });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === "TimeoutOverflowWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("answers any bytes with a status of the client's making, never INTERNAL, and keeps serving", async () => {
    const seen: CallRecord[] = [];
    const { url } = await serveScripted({ maxMessageBytes: 64, onCall: (call) => seen.push(call) });
    const sessionId = await newSession(url);
    const valid = chatIn(sessionId);
    // Random bytes, and mutations of a valid call: cut, flipped, lengthened, a prefix that lies.
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
      fc.tuple(fc.nat(valid.length), fc.nat(255)).map(([at, byte]) => {
        const copy = Buffer.from(valid);
        copy[at % copy.length] = byte;
        return copy;
      }),
      fc.nat(valid.length).map((n) => valid.subarray(0, n)),
      fc
        .tuple(fc.constantFrom(0, 1, 2, 128), fc.nat(200), fc.uint8Array({ maxLength: 40 }))
        .map(([flags, length, rest]) => {
          const head = Buffer.alloc(5);
          head[0] = flags;
          head.writeUInt32BE(length, 1);
          return Buffer.concat([head, rest]);
        }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 1, max: 4 }), async (bytes, pieces) => {
        const answer = await rawCall(url, `${SERVICE}/Chat`, bytes, { pieces });
        const status = answer.trailers?.["grpc-status"];
        expect(status).toBeDefined();
        expect(["13", "2"]).not.toContain(status);
      }),
      { numRuns: 60 },
    );
    expect(seen.some((call) => call.code === "internal" || call.code === "unknown")).toBe(false);
    const after = await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId));
    expect(after.trailers?.["grpc-status"]).toBe("0");
  });

  it("aborts the work when the client resets the stream, and logs the call as cancelled", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const logger = recordingLogger();
    const { url } = await serveScripted({ logger }, { backend });
    const sessionId = await newSession(url);
    await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId), {
      sent: (stream) => setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), 100),
    });
    await expect.poll(() => backend.requests.at(-1)?.signal.aborted).toBe(true);
    await expect
      .poll(() => logger.lines.find((line) => line.obj.rpc === "ChatbotService/Chat")?.obj)
      .toMatchObject({ protocol: "grpc", http: "2.0", code: "canceled", error: "the client went away" });
  });

  it("logs and counts every call, the refused and the malformed too", async () => {
    const logger = recordingLogger();
    const seen: CallRecord[] = [];
    const { url } = await serveScripted({ logger, onCall: (call) => seen.push(call) });
    const sessionId = await newSession(url);
    await rawCall(url, `${SERVICE}/Chat`, chatIn(sessionId));
    await rawCall(url, `${SERVICE}/Chat`, frame(Buffer.from([0xff])));
    const lines = logger.lines.filter((line) => line.msg?.startsWith("rpc")).map((line) => line.obj);
    expect(lines).toEqual([
      expect.objectContaining({ rpc: "ChatbotService/NewSession", protocol: "grpc", http: "2.0", code: "ok" }),
      expect.objectContaining({ rpc: "ChatbotService/Chat", session: sessionId.slice(0, 8), code: "ok" }),
      expect.objectContaining({
        rpc: "ChatbotService/Chat",
        code: "invalid_argument",
        error: expect.stringMatching(/^parse binary/),
      }),
    ]);
    expect(lines[1]).toHaveProperty("ms");
    expect(seen.map((call) => call.code)).toEqual(["ok", "ok", "invalid_argument"]);
    expect(seen.every((call) => call.protocol === "grpc" && call.seconds >= 0)).toBe(true);
  });
});
