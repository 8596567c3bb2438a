/**
 * Every way a stranger can reach the built program, each answering one
 * normalized outcome: gRPC (grpc-js), Connect JSON and Connect binary
 * (connect-node), the legacy HTTP API (fetch), and raw bytes over a socket or
 * an HTTP/2 stream for what no well-behaved client would send. Shared by the
 * hostile-input regressions and the fuzz suite.
 */
import { Agent, request as httpRequest } from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { GrpcJsClient, type grpc } from "./grpc-js-client.js";

export type Via = "grpc" | "connect-json" | "connect-binary";
export const VIAS: readonly Via[] = ["grpc", "connect-json", "connect-binary"];

/** An RPC's outcome: its gRPC status code (0 = OK), message, and the response when OK. */
export interface RpcOutcome<R = unknown> {
  readonly code: number;
  readonly message: string;
  readonly response?: R;
}

/** An HTTP answer (or none: `status` undefined when the server closed without answering). */
export interface HttpOutcome {
  readonly status: number | undefined;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** gRPC codes by name, as both grpc-js and Connect number them. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export class HostileClients {
  readonly #grpc: GrpcJsClient;
  readonly #connect: Record<Exclude<Via, "grpc">, Client<typeof ChatbotService>>;
  readonly #health: Client<typeof Health>;

  constructor(
    readonly urls: { readonly grpcUrl: string; readonly httpUrl: string },
    /** Every call's deadline: a server that has not answered by then has stalled. */
    readonly deadlineMs = 20_000,
  ) {
    this.#grpc = new GrpcJsClient(urls.grpcUrl);
    // HTTP/1.1 without keep-alive: a pooled socket the server closed as idle at the moment of reuse fails
    // on the client's side (ECONNRESET), which must not be blamed on the server.
    const nodeOptions = { agent: new Agent({ keepAlive: false }) };
    this.#connect = {
      "connect-json": createClient(
        ChatbotService,
        createConnectTransport({ baseUrl: urls.grpcUrl, httpVersion: "1.1", nodeOptions }),
      ),
      "connect-binary": createClient(
        ChatbotService,
        createConnectTransport({ baseUrl: urls.grpcUrl, httpVersion: "1.1", useBinaryFormat: true, nodeOptions }),
      ),
    };
    this.#health = createClient(Health, createConnectTransport({ baseUrl: urls.grpcUrl, httpVersion: "2" }));
  }

  newSession(
    via: Via,
    input: { config: string; initialPrompt?: string },
  ): Promise<RpcOutcome<{ sessionId: string; initialResponse: string }>> {
    if (via === "grpc")
      return this.#viaGrpc(this.#grpc.unary(ChatbotService.method.newSession, input, { deadlineMs: this.deadlineMs }));
    return this.#viaConnect(this.#connect[via].newSession(input, { timeoutMs: this.deadlineMs }));
  }

  chat(via: Via, input: { sessionId: string; prompt: string }): Promise<RpcOutcome<{ response: string }>> {
    if (via === "grpc")
      return this.#viaGrpc(this.#grpc.unary(ChatbotService.method.chat, input, { deadlineMs: this.deadlineMs }));
    return this.#viaConnect(this.#connect[via].chat(input, { timeoutMs: this.deadlineMs }));
  }

  deleteSession(via: Via, input: { sessionId: string }): Promise<RpcOutcome<{ sessionId: string }>> {
    if (via === "grpc")
      return this.#viaGrpc(
        this.#grpc.unary(ChatbotService.method.deleteSession, input, { deadlineMs: this.deadlineMs }),
      );
    return this.#viaConnect(this.#connect[via].deleteSession(input, { timeoutMs: this.deadlineMs }));
  }

  /** grpc.health.v1.Health/Check for a service name, over gRPC (HTTP/2, where metadata limits bite). */
  healthCheck(service: string): Promise<RpcOutcome> {
    return this.#viaGrpc(
      (async () => {
        const grpcClient = new GrpcJsClient(this.urls.grpcUrl);
        try {
          return await grpcClient.unary(Health.method.check, { service }, { deadlineMs: this.deadlineMs });
        } finally {
          grpcClient.close();
        }
      })(),
    );
  }

  /** Health/Check over Connect (for timing from the test's side). */
  healthCheckConnect(service = ""): Promise<RpcOutcome> {
    return this.#viaConnect(this.#health.check({ service }, { timeoutMs: this.deadlineMs }));
  }

  /**
   * POST to the legacy HTTP API with this exact body, on a connection of its
   * own: a pooled keep-alive socket the server closed meanwhile would fail the
   * request on the client's side and be blamed on the server. An answer that
   * arrives before the upload ends (413 for an oversized body) counts even if
   * the server then closes the socket under the rest of the upload.
   */
  http(
    path: string,
    body: string | Uint8Array,
    { contentType = "application/json" }: { contentType?: string } = {},
  ): Promise<HttpOutcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`HTTP request unanswered after ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      const req = httpRequest(new URL(path, this.urls.httpUrl), {
        method: "POST",
        agent: false,
        headers: { connection: "close", ...(contentType === "" ? {} : { "content-type": contentType }) },
      });
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        const done = (): void => {
          clearTimeout(timer);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
          resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), headers });
        };
        res.on("end", done);
        res.on("error", done); // the body so far
      });
      req.on("error", (error) => {
        if (answered) return;
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }

  /**
   * Writes raw bytes to the HTTP API's port (a request no HTTP client would
   * send), half-closes after `closeAfterMs`, and reads until the server closes.
   */
  rawHttp(bytes: Uint8Array, { closeAfterMs = 200 }: { closeAfterMs?: number } = {}): Promise<HttpOutcome> {
    const { hostname, port } = new URL(this.urls.httpUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`raw HTTP request unanswered after ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", () => {}); // a reset after the answer is fine; "close" settles
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(parseRawResponse(Buffer.concat(chunks).toString("latin1")));
      });
      socket.write(bytes, () => setTimeout(() => socket.end(), closeAfterMs));
    });
  }

  /** One gRPC call over HTTP/2 whose request body is exactly `body` (frames of our making). */
  rawGrpc(path: string, body: Uint8Array): Promise<RpcOutcome & { headers: Record<string, string> }> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(this.urls.grpcUrl);
      session.on("error", () => {});
      const timer = setTimeout(() => {
        session.destroy();
        reject(new Error(`raw gRPC call unanswered after ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      const req = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      const headers: Record<string, string> = {};
      const take = (h: http2.IncomingHttpHeaders): void => {
        for (const [k, v] of Object.entries(h))
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : String(v);
      };
      req.on("response", take);
      req.on("trailers", take);
      req.on("data", () => {});
      const finish = (): void => {
        clearTimeout(timer);
        session.close();
        resolve({
          code: headers["grpc-status"] === undefined ? -1 : Number(headers["grpc-status"]),
          message: decodeURIComponentSafe(headers["grpc-message"] ?? ""),
          headers,
        });
      };
      req.on("end", finish);
      req.on("error", finish);
      req.end(body);
    });
  }

  /** A Connect unary call (HTTP/1.1 POST) whose body is exactly `body`: the answer's HTTP status and its code. */
  async rawConnect(path: string, contentType: string, body: Uint8Array): Promise<RpcOutcome & { status: number }> {
    const response = await fetch(new URL(path, this.urls.grpcUrl), {
      method: "POST",
      headers: { "content-type": contentType, "connect-protocol-version": "1" },
      body,
      signal: AbortSignal.timeout(this.deadlineMs),
    });
    const text = await response.text();
    if (response.status === 200) return { status: 200, code: 0, message: "" };
    let error: { code?: unknown; message?: unknown } = {};
    try {
      error = JSON.parse(text) as typeof error;
    } catch {
      // not a Connect error body: reported as code -1 with the raw text
    }
    const name = typeof error.code === "string" ? error.code.toUpperCase() : "";
    return {
      status: response.status,
      code: name in GrpcCode ? GrpcCode[name as keyof typeof GrpcCode] : -1,
      message: typeof error.message === "string" ? error.message : text,
    };
  }

  close(): void {
    this.#grpc.close();
  }

  async #viaGrpc<R>(call: Promise<R>): Promise<RpcOutcome<R>> {
    try {
      return { code: 0, message: "", response: await call };
    } catch (error) {
      const e = error as grpc.ServiceError;
      return { code: e.code, message: e.details };
    }
  }

  async #viaConnect<R>(call: Promise<R>): Promise<RpcOutcome<R>> {
    try {
      return { code: 0, message: "", response: await call };
    } catch (error) {
      const e = ConnectError.from(error);
      return { code: e.code, message: e.rawMessage };
    }
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseRawResponse(text: string): HttpOutcome {
  const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (match === null) return { status: undefined, body: text, headers: {} };
  const headers: Record<string, string> = {};
  for (const line of match[2]!.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), body: match[3]!, headers };
}

/** A gRPC message frame: flag byte, big-endian length, then the bytes (`length` overrides, to lie). */
export function grpcFrame(message: Uint8Array, { length = message.length }: { length?: number } = {}): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, length);
  frame.set(message, 5);
  return frame;
}

/** A protobuf length-delimited field (wire type 2) with raw bytes: a string field that may hold invalid UTF-8. */
export function protoBytesField(fieldNumber: number, bytes: Uint8Array): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  return Uint8Array.from([...varint((fieldNumber << 3) | 2), ...varint(bytes.length), ...bytes]);
}
