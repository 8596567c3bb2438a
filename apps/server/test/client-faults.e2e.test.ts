/**
 * Client-caused conditions, end to end through the whole program (gRPC port
 * and the legacy HTTP API's): malformed chunked bodies, uploads cut off,
 * an HTTP/2 stream reset mid-request, a client cancel while the upstream
 * works. Each is the client's doing: the server logs it below error level
 * and without a stack (error level with a stack is for the server's own
 * bugs), and keeps answering everyone else.
 */

import * as http2 from "node:http2";
import { connect } from "node:net";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";

const { newSession: NewSession, chat: Chat } = ChatbotService.method;
const CHAT_PATH = "/muvtuber.chatbot.v2.ChatbotService/Chat";
const API_KEY = "sk-test-client-faults-0123456789";

let upstream: FakeOpenAI;
let program: RunningProgram;
let client: GrpcJsClient;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  program = await startProgram({
    argv: ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--debug"],
    env: { API_URL: upstream.url, OPENAI_API_KEY: API_KEY, CHATGPT_V3_COOLDOWN: "0" },
  });
  client = new GrpcJsClient(program.grpcUrl);
});

afterAll(async () => {
  client?.close();
  await program?.stop();
  await upstream?.close();
});

/** Writes `text` on a raw socket; with `cutAfterMs`, destroys it then. Resolves with the status line received, if any. */
function rawHttp1(url: string, text: string, cutAfterMs?: number): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    let received = "";
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(text);
      if (cutAfterMs !== undefined) setTimeout(() => socket.destroy(), cutAfterMs);
    });
    socket.on("data", (data: Buffer) => (received += data.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => resolve(received.split("\r\n")[0] ?? ""));
  });
}

const post = (path: string, framing: string, contentType = "application/json") =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n${framing}\r\n`;

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Lines at error level or above, or carrying a stack, since `from`. */
const alarming = (from: number) =>
  program.logs.slice(from).filter((line) => {
    const text = JSON.stringify(line);
    return (line.level as number) >= 50 || text.includes("stack") || text.includes("    at ");
  });

/** The HTTP API logged two request lines since `from`, both 400 at info, and nothing alarming. */
async function expectTwoRequestsAtInfo(from: number): Promise<void> {
  const requests = () => program.logs.slice(from).filter((line) => line.msg === "request");
  await until(() => requests().length >= 2);
  expect(requests().map((line) => [line.level, line.status])).toEqual([
    [30, 400],
    [30, 400],
  ]);
  expect(alarming(from)).toEqual([]);
}

describe("client-caused conditions are logged below error level, without a stack", () => {
  it("malformed chunked bodies: Connect on the gRPC port, /ask and /renew on the HTTP port", async () => {
    const from = program.logs.length;
    const badChunk = "Transfer-Encoding: chunked\r\n";
    expect(await rawHttp1(program.grpcUrl, `${post(CHAT_PATH, badChunk)}ZZZ\r\n{}\r\n0\r\n\r\n`)).toBe(
      "HTTP/1.1 400 Bad Request",
    );
    expect(await rawHttp1(program.httpUrl!, `${post("/ask", badChunk)}ZZZ\r\n{}\r\n0\r\n\r\n`)).toBe(
      "HTTP/1.1 400 Bad Request",
    );
    expect(await rawHttp1(program.httpUrl!, `${post("/renew", badChunk)}1\r\n{}\r\n0\r\n\r\n`)).toBe(
      "HTTP/1.1 400 Bad Request",
    );
    await expectTwoRequestsAtInfo(from);
  });

  it("uploads cut off mid-body, by Content-Length and chunked", async () => {
    const from = program.logs.length;
    await rawHttp1(program.grpcUrl, `${post(CHAT_PATH, "Content-Length: 100\r\n")}{"sessionId":`, 50);
    await rawHttp1(program.grpcUrl, `${post(CHAT_PATH, "Transfer-Encoding: chunked\r\n")}40\r\n{"sessionId":`, 50);
    await rawHttp1(program.httpUrl!, `${post("/ask", "Content-Length: 100\r\n")}{"prompt":`, 50);
    await rawHttp1(program.httpUrl!, `${post("/ask", "Transfer-Encoding: chunked\r\n")}40\r\n{"prompt":`, 50);
    await expectTwoRequestsAtInfo(from);
  });

  it("an HTTP/2 stream reset in the middle of a gRPC request's message", async () => {
    const from = program.logs.length;
    const session = http2.connect(program.grpcUrl);
    session.on("error", () => {});
    const stream = session.request({
      ":method": "POST",
      ":path": CHAT_PATH,
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("error", () => {});
    // A gRPC envelope announcing 50 bytes, of which 2 arrive; then RST_STREAM (CANCEL).
    stream.write(Buffer.from([0, 0, 0, 0, 50, 10, 3]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise<void>((resolve) => stream.once("close", () => resolve()));
    session.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alarming(from)).toEqual([]);
  });

  it("a client cancel while the upstream works: CANCELLED at info, the upstream request closed", async () => {
    const { sessionId } = await client.unary(NewSession, { config: "" });
    const from = program.logs.length;
    upstream.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = grpcError(client.unary(Chat, { sessionId, prompt: "hello" }, { signal: controller.signal }));
    await until(
      () => upstream.requests.length > 0 && upstream.requests.at(-1)?.body.messages.at(-1).content === "hello",
    );
    controller.abort();
    expect((await pending).code).toBe(grpc.status.CANCELLED);
    await upstream.waitForAbort(2000);
    await until(() => program.logs.slice(from).some((line) => line.msg === "rpc failed"));
    const failed = program.logs.slice(from).filter((line) => line.msg === "rpc failed");
    expect(failed.map((line) => [line.level, line.code])).toEqual([[30, "canceled"]]);
    expect(alarming(from)).toEqual([]);
  });

  it("keeps answering afterwards", async () => {
    const { sessionId } = await client.unary(NewSession, { config: "" });
    expect((await client.unary(Chat, { sessionId, prompt: "still there" })).response).toBe("echo: still there");
    expect(await (await fetch(`${program.httpUrl}/healthz`)).text()).toBe("ok");
  });
});
