/**
 * The clients the load generator drives, one per target: the real client
 * libraries users run (grpc-js for gRPC, connect-node over HTTP/1.1 for
 * Connect, undici for the HTTP API), and raw undici POSTs of the server's own
 * upstream request for the two references.
 */
import { Agent } from "node:http";
import { create } from "@bufbuild/protobuf";
import {
  ChatbotService,
  ChatRequestSchema,
  ChatResponseSchema,
  DeleteSessionRequestSchema,
  DeleteSessionResponseSchema,
  NewSessionRequestSchema,
  NewSessionResponseSchema,
} from "@chatgptchatbot/proto";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { Pool } from "undici";
import type { LoadCall } from "./closed-loop.js";
import { streamTimestamps } from "./fast-upstream.js";
import { callUnary } from "./grpc-unary.js";

export type TargetSpec =
  /** A raw POST of `body` to `origin + path` (the references: the upstream directly, or through the Node hop). */
  | {
      readonly kind: "raw";
      readonly origin: string;
      readonly path: string;
      readonly body: string;
      readonly authorization: string;
    }
  /**
   * ChatbotService.Chat over gRPC (grpc-js, one channel): one session per worker, or `sessions` shared
   * round-robin (worker i chats on session i mod sessions: a session's chats queue, as on a real stream).
   * `seedTurns` chats on every session before the load starts fill their history to the steady state.
   */
  | {
      readonly kind: "grpc";
      readonly address: string;
      readonly sessionConfig: string;
      readonly prompt: string;
      readonly sessions?: number;
      readonly seedTurns?: number;
    }
  /** ChatbotService.Chat over Connect on HTTP/1.1 (connect-node), one session per worker. */
  | { readonly kind: "connect"; readonly baseUrl: string; readonly sessionConfig: string; readonly prompt: string }
  /** `POST /ask` of the legacy HTTP API (undici): every request goes to its one default session. */
  | { readonly kind: "ask"; readonly origin: string; readonly prompt: string };

export interface OpenTarget {
  readonly call: LoadCall;
  close(): Promise<void>;
}

/**
 * Timings of a reply whose text carries the fake upstream's event stamps:
 * ms from the first and from the last upstream event to now. Nothing when the
 * reply carries no stamps.
 */
export function stampTimings(reply: string, now: bigint): Record<string, number> | undefined {
  const stamps = streamTimestamps(reply);
  if (stamps.length === 0) return undefined;
  return {
    firstEventToReply: Number(now - stamps[0]!) / 1e6,
    lastEventToReply: Number(now - stamps.at(-1)!) / 1e6,
  };
}

export async function openTarget(spec: TargetSpec, { concurrency }: { concurrency: number }): Promise<OpenTarget> {
  switch (spec.kind) {
    case "raw":
      return openRaw(spec, concurrency);
    case "ask":
      return openAsk(spec, concurrency);
    case "grpc":
      return openGrpc(spec, concurrency);
    case "connect":
      return openConnect(spec, concurrency);
  }
}

function openRaw(spec: Extract<TargetSpec, { kind: "raw" }>, concurrency: number): OpenTarget {
  const pool = new Pool(spec.origin, { connections: concurrency, keepAliveTimeout: 60_000 });
  const headers = { "content-type": "application/json", authorization: spec.authorization };
  return {
    async call() {
      const res = await pool.request({ path: spec.path, method: "POST", headers, body: spec.body });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    },
    close: () => pool.close(),
  };
}

function openAsk(spec: Extract<TargetSpec, { kind: "ask" }>, concurrency: number): OpenTarget {
  const pool = new Pool(spec.origin, { connections: concurrency, keepAliveTimeout: 60_000 });
  const headers = { "content-type": "application/json" };
  const body = JSON.stringify({ prompt: spec.prompt });
  return {
    async call() {
      const res = await pool.request({ path: "/ask", method: "POST", headers, body });
      const text = await res.body.text();
      const now = process.hrtime.bigint();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      return stampTimings(text, now);
    },
    close: () => pool.close(),
  };
}

async function openGrpc(spec: Extract<TargetSpec, { kind: "grpc" }>, concurrency: number): Promise<OpenTarget> {
  const client = new grpc.Client(spec.address, grpc.credentials.createInsecure());
  const chat = (sessionId: string) =>
    callUnary({
      client,
      method: "Chat",
      input: ChatRequestSchema,
      output: ChatResponseSchema,
      message: create(ChatRequestSchema, { sessionId, prompt: spec.prompt }),
    });
  const sessions: string[] = [];
  try {
    for (let i = 0; i < (spec.sessions ?? concurrency); i++) {
      const created = await callUnary({
        client,
        method: "NewSession",
        input: NewSessionRequestSchema,
        output: NewSessionResponseSchema,
        message: create(NewSessionRequestSchema, { config: spec.sessionConfig }),
      });
      sessions.push(created.sessionId);
    }
    await Promise.all(
      sessions.map(async (sessionId) => {
        for (let turn = 0; turn < (spec.seedTurns ?? 0); turn++) await chat(sessionId);
      }),
    );
  } catch (error) {
    client.close();
    throw error;
  }
  return {
    async call(worker) {
      const { response } = await chat(sessions[worker % sessions.length]!);
      return stampTimings(response, process.hrtime.bigint());
    },
    async close() {
      for (const sessionId of sessions) {
        await callUnary({
          client,
          method: "DeleteSession",
          input: DeleteSessionRequestSchema,
          output: DeleteSessionResponseSchema,
          message: create(DeleteSessionRequestSchema, { sessionId }),
        }).catch(() => undefined);
      }
      client.close();
    },
  };
}

async function openConnect(spec: Extract<TargetSpec, { kind: "connect" }>, concurrency: number): Promise<OpenTarget> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const client = createClient(
    ChatbotService,
    createConnectTransport({ httpVersion: "1.1", baseUrl: spec.baseUrl, nodeOptions: { agent } }),
  );
  const sessions: string[] = [];
  try {
    for (let i = 0; i < concurrency; i++)
      sessions.push((await client.newSession({ config: spec.sessionConfig })).sessionId);
  } catch (error) {
    agent.destroy();
    throw error;
  }
  return {
    async call(worker) {
      const { response } = await client.chat({ sessionId: sessions[worker]!, prompt: spec.prompt });
      return stampTimings(response, process.hrtime.bigint());
    },
    async close() {
      for (const sessionId of sessions) await client.deleteSession({ sessionId }).catch(() => undefined);
      agent.destroy();
    },
  };
}
