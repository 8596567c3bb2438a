/**
 * Issue 10's cases, each reproduced against the built program
 * (`node dist/main.js --grpc … --http …`, a real process) with fake upstreams on
 * 127.0.0.1: whatever a stranger sends, the caller gets a documented status
 * (never INTERNAL / 500), nothing echoes a credential or a stack, and the
 * health checks stay answered within 100 ms meanwhile.
 *
 * Written before the fixes, on the main of 2026-11-29, where each failed:
 * items 1–5 pass since branch hostile-core (token counting, special tokens,
 * prompt limit, credential validation, bounded messages, JSON depth), items
 * 6–7 since hostile-upstream (terminator, log levels), item 8 (found by the
 * fuzz suite) since src/undecodable-request.ts.
 */

import { ChatbotService } from "@chatgptchatbot/proto";
import {
  type FakeChatGPTWeb,
  type FakeOpenAI,
  type RecordedRequest,
  startFakeChatGPTWeb,
  startFakeOpenAI,
} from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type BuiltProgram, fakeUpstreamsEnv, memoryOf, startBuiltProgram } from "./built-program.js";
import { GrpcJsClient, grpcError } from "./grpc-js-client.js";
import { type HealthReport, startHealthPoller } from "./health-poller.js";
import { GrpcCode, grpcFrame, HostileClients, VIAS } from "./hostile-clients.js";
import {
  DOCUMENTED_HTTP_STATUSES,
  errorLogLines,
  httpProblems,
  MAX_MESSAGE_CHARS,
  rpcProblems,
} from "./reply-checks.js";

const SERVER_KEY = "sk-test-hostile-server-key-0001";
const SERVER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.test-hostile-server-token";
const HEALTH_BOUND_MS = 100;

// A call the server cannot answer stalls until the clients' 20 s deadline; the
// test reports that, not vitest's default 5 s timeout.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

let openai: FakeOpenAI;
let web: FakeChatGPTWeb;
let program: BuiltProgram;
let clients: HostileClients;
/** When set, the fake OpenAI answers this instead of echoing. */
let nextReply: string | undefined;

beforeAll(async () => {
  openai = await startFakeOpenAI({
    reply: (request: RecordedRequest) => {
      if (nextReply !== undefined) {
        const reply = nextReply;
        nextReply = undefined;
        return reply;
      }
      const messages = (request.body as { messages?: { role: string; content: string }[] }).messages ?? [];
      return `echo: ${messages.findLast((m) => m.role === "user")?.content ?? ""}`;
    },
  });
  web = await startFakeChatGPTWeb();
  program = await startBuiltProgram({
    env: fakeUpstreamsEnv({
      openaiUrl: openai.url,
      webUrl: web.url,
      serverKey: SERVER_KEY,
      serverToken: SERVER_TOKEN,
      maxSessions: 200,
    }),
  });
  clients = new HostileClients(program);
}, 30_000);

afterAll(async () => {
  clients?.close();
  if (program !== undefined) {
    expect(await program.stop()).toBe(0);
    expect(program.otherOutput).toEqual([]);
  }
  await openai?.close();
  await web?.close();
});

/** Runs `work` while both health checks are polled; returns its result and the poll record. */
async function whileHealthPolled<T>(work: () => Promise<T>): Promise<{ result: T; health: HealthReport }> {
  const poller = await startHealthPoller({
    grpcUrl: program.grpcUrl,
    httpUrl: program.httpUrl,
    pid: program.child.pid!,
    boundMs: HEALTH_BOUND_MS,
  });
  try {
    const result = await work();
    // A few more polls after the answer: work the call left behind (a queued
    // tokenization, a GC of its garbage) must not stall the server either.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { result, health: await poller.stop() };
  } catch (error) {
    await poller.stop();
    throw error;
  }
}

function expectHealthy(health: HealthReport): void {
  expect(health.polls).toBeGreaterThan(0);
  expect(health.bad, `health checks ${HEALTH_BOUND_MS} ms slower than a control process, or failing`).toEqual([]);
}

async function newSession(config: object = { version: 3 }, initialPrompt?: string): Promise<string> {
  const outcome = await clients.newSession("grpc", {
    config: JSON.stringify(config),
    ...(initialPrompt === undefined ? {} : { initialPrompt }),
  });
  expect(outcome.code, outcome.message).toBe(GrpcCode.OK);
  return outcome.response!.sessionId;
}

function nested(depth: number, open = "[", close = "]", inner = "3"): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

describe("1. long prompts do not stall the server (hostile-core)", () => {
  const cases: { name: string; prompt: () => string }[] = [
    { name: "100 kB of `x`", prompt: () => "x".repeat(100_000) },
    { name: "1 MB of `x`", prompt: () => "x".repeat(1_000_000) },
    { name: "1 MB of base64", prompt: () => Buffer.alloc(750_000, "\u00ff\u00fe\u0001 fuzz").toString("base64") },
    { name: "30 k CJK characters", prompt: () => "漢字仮名交じり文中文字符".repeat(2_500) },
  ];

  it.each(cases)(
    "Chat with $name: answered (OK or INVALID_ARGUMENT) while health answers within 100 ms",
    async ({ prompt }) => {
      const sessionId = await newSession();
      const { result, health } = await whileHealthPolled(() => clients.chat("grpc", { sessionId, prompt: prompt() }));
      expect(rpcProblems(result, { codes: new Set([GrpcCode.OK, GrpcCode.INVALID_ARGUMENT]) })).toEqual([]);
      expectHealthy(health);
    },
  );

  it.each(cases)(
    "/ask with $name: answered (200, 400 or 413) while health answers within 100 ms",
    async ({ prompt }) => {
      const { result, health } = await whileHealthPolled(() =>
        clients.http("/ask", JSON.stringify({ prompt: prompt() })),
      );
      expect(httpProblems(result)).toEqual([]);
      expect([200, 400, 413]).toContain(result.status);
      expectHealthy(health);
    },
  );

  it("an initial prompt of 100 kB of `x`: answered while health answers within 100 ms", async () => {
    const { result, health } = await whileHealthPolled(() =>
      clients.newSession("grpc", { config: JSON.stringify({ version: 3 }), initialPrompt: "x".repeat(100_000) }),
    );
    expect(rpcProblems(result, { codes: new Set([GrpcCode.OK, GrpcCode.INVALID_ARGUMENT]) })).toEqual([]);
    expectHealthy(health);
  });

  it("a 1 MB prompt is over the documented limit: INVALID_ARGUMENT over gRPC and Connect, 400/413 over /ask", async () => {
    const prompt = "x".repeat(1_000_000);
    for (const via of VIAS) {
      const sessionId = await newSession();
      const outcome = await clients.chat(via, { sessionId, prompt });
      expect(outcome.code, `${via}: ${outcome.message}`).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(rpcProblems(outcome)).toEqual([]);
    }
    const asked = await clients.http("/ask", JSON.stringify({ prompt }));
    expect([400, 413]).toContain(asked.status);
  });
});

describe("2. special tokens are ordinary text (hostile-core)", () => {
  const PROMPT = "say <|endoftext|> please";

  it.each(VIAS)("Chat over %s with `say <|endoftext|> please` → OK, the reply echoes it", async (via) => {
    const sessionId = await newSession();
    const outcome = await clients.chat(via, { sessionId, prompt: PROMPT });
    expect(outcome.code, outcome.message).toBe(GrpcCode.OK);
    expect(outcome.response?.response).toBe(`echo: ${PROMPT}`);
  });

  it("every special token of the tokenizers, in a prompt → OK", async () => {
    const sessionId = await newSession();
    const prompt =
      "<|endoftext|> <|im_start|>system<|im_sep|> <|im_end|> <|fim_prefix|><|fim_middle|><|fim_suffix|> <|endofprompt|>";
    const outcome = await clients.chat("grpc", { sessionId, prompt });
    expect(outcome.code, outcome.message).toBe(GrpcCode.OK);
    expect(outcome.response?.response).toBe(`echo: ${prompt}`);
  });

  it("as an initial_prompt → OK, and the session chats", async () => {
    const created = await clients.newSession("grpc", {
      config: JSON.stringify({ version: 3 }),
      initialPrompt: `You are ${PROMPT}.`,
    });
    expect(created.code, created.message).toBe(GrpcCode.OK);
    const outcome = await clients.chat("grpc", { sessionId: created.response!.sessionId, prompt: "hi" });
    expect(outcome.code, outcome.message).toBe(GrpcCode.OK);
  });

  it("through /ask → 200 with the reply", async () => {
    const answer = await clients.http("/ask", JSON.stringify({ prompt: PROMPT }));
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toBe(`echo: ${PROMPT}`);
  });

  it("in the upstream's reply → OK, and the next turn (which counts it in the history) → OK", async () => {
    const sessionId = await newSession();
    nextReply = "the model said <|endoftext|> here";
    const first = await clients.chat("grpc", { sessionId, prompt: "hello" });
    expect(first.code, first.message).toBe(GrpcCode.OK);
    expect(first.response?.response).toBe("the model said <|endoftext|> here");
    const second = await clients.chat("grpc", { sessionId, prompt: "again" });
    expect(second.code, second.message).toBe(GrpcCode.OK);
    const sent = (openai.requests.at(-1)!.body as { messages: { content: string }[] }).messages.map((m) => m.content);
    expect(sent).toContain("the model said <|endoftext|> here");
  });
});

describe("3. credentials that can never be sent are refused (hostile-core)", () => {
  const BAD: { name: string; value: string }[] = [
    { name: "a NUL", value: "sk-test-nul\u0000x" },
    { name: "non-ASCII", value: "sk-test-ключ" },
    { name: "whitespace only", value: " " },
    { name: "a space inside", value: "sk-test-has space" },
    { name: "a newline", value: "sk-test-line\nbreak" },
    { name: "100,000 characters", value: `sk-test-${"k".repeat(100_000)}` },
  ];

  describe.each(BAD)("a credential with $name", ({ value }) => {
    it.each(VIAS)(
      "NewSession over %s → INVALID_ARGUMENT naming the field, never the value; nothing sent upstream",
      async (via) => {
        const before = openai.requests.length + web.requests.length;
        for (const config of [
          { version: 3, api_key: value },
          { version: 1, access_token: value },
        ]) {
          const field = "api_key" in config ? "api_key" : "access_token";
          const outcome = await clients.newSession(via, { config: JSON.stringify(config), initialPrompt: "hi" });
          expect(outcome.code, `${field}: ${outcome.message}`).toBe(GrpcCode.INVALID_ARGUMENT);
          expect(outcome.message).toContain(field);
          expect(rpcProblems(outcome, { secrets: [value.trim()] })).toEqual([]);
          if (value.trim().length >= 3) expect(outcome.message).not.toContain(value.trim().slice(0, 16));
        }
        expect(openai.requests.length + web.requests.length).toBe(before);
      },
    );

    it("/renew → 400 naming the field; the default session keeps its credential", async () => {
      for (const body of [{ version: 3, api_key: value }, { access_token: value }]) {
        const field = "api_key" in body ? "api_key" : "access_token";
        const renewed = await clients.http("/renew", JSON.stringify(body));
        expect(renewed.status, renewed.body).toBe(400);
        expect(renewed.body).toContain(field);
        expect(httpProblems(renewed, { secrets: [value.trim()] })).toEqual([]);
      }
      const asked = await clients.http("/ask", JSON.stringify({ prompt: "still working?" }));
      expect(asked.status, asked.body).toBe(200);
    });
  });
});

describe("4. client values in status messages are bounded and escaped (hostile-core)", () => {
  it.each([20_000, 200_000])(
    "a config whose version is %i characters → INVALID_ARGUMENT with a short message",
    async (length) => {
      for (const via of VIAS) {
        const outcome = await clients.newSession(via, {
          config: JSON.stringify({ version: "v".repeat(length), api_key: "sk-test-long-version" }),
        });
        expect(outcome.code, `${via}: ${outcome.message.slice(0, 200)}`).toBe(GrpcCode.INVALID_ARGUMENT);
        expect(rpcProblems(outcome)).toEqual([]);
      }
    },
  );

  it("a 100,000-character session_id → INVALID_ARGUMENT with a short message (Chat and DeleteSession, every protocol)", async () => {
    const sessionId = "s".repeat(100_000);
    for (const via of VIAS) {
      for (const outcome of [
        await clients.chat(via, { sessionId, prompt: "hi" }),
        await clients.deleteSession(via, { sessionId }),
      ]) {
        expect(outcome.code, `${via}: ${outcome.message.slice(0, 200)}`).toBe(GrpcCode.INVALID_ARGUMENT);
        expect(rpcProblems(outcome)).toEqual([]);
      }
    }
  });

  it("a 100,000-character health service name → NOT_FOUND with a short message", async () => {
    const outcome = await clients.healthCheck("h".repeat(100_000));
    expect(outcome.code, outcome.message.slice(0, 200)).toBe(GrpcCode.NOT_FOUND);
    expect(rpcProblems(outcome)).toEqual([]);
  });

  it("control characters in an echoed value are escaped, not passed through", async () => {
    const outcome = await clients.newSession("grpc", {
      config: JSON.stringify({ version: "3\u0000\r\nx-injected: 1\u001b[31m" }),
    });
    expect(outcome.code).toBe(GrpcCode.INVALID_ARGUMENT);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that no control character is echoed.
    expect(outcome.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(outcome.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  });
});

describe("5. deep nesting (hostile-core)", () => {
  it.each([
    ["10,000 nested arrays", nested(10_000)],
    ["10,000 nested objects", nested(10_000, '{"a":', "}")],
    ["100,000 nested arrays", nested(100_000)],
  ])("a config whose version is %s → INVALID_ARGUMENT over every protocol", async (_name, version) => {
    for (const via of VIAS) {
      const outcome = await clients.newSession(via, {
        config: `{"version":${version},"api_key":"sk-test-deep-nesting"}`,
      });
      expect(outcome.code, `${via}: ${outcome.message.slice(0, 200)}`).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(rpcProblems(outcome)).toEqual([]);
    }
  });

  it("/renew with a 20,000-deep version → 400; /ask with a 20,000-deep prompt → 400", async () => {
    const renewed = await clients.http("/renew", `{"api_key":"sk-test-deep-renew","version":${nested(20_000)}}`);
    expect(renewed.status, renewed.body.slice(0, 200)).toBe(400);
    expect(httpProblems(renewed, { maxBodyChars: MAX_MESSAGE_CHARS })).toEqual([]);
    const asked = await clients.http("/ask", `{"prompt":${nested(20_000, '{"p":', "}", '"x"')}}`);
    expect(asked.status, asked.body.slice(0, 200)).toBe(400);
    expect(httpProblems(asked, { maxBodyChars: MAX_MESSAGE_CHARS })).toEqual([]);
  });
});

describe("6. a reply cut short is an upstream failure, and nothing of it is stored (hostile-upstream)", () => {
  it.each(VIAS)(
    "over %s: a stream ending with neither finish_reason nor [DONE] → UNAVAILABLE; the next turn's history lacks it",
    async (via) => {
      const apiKey = `sk-test-cut-short-${via}`;
      const created = await clients.newSession(via, { config: JSON.stringify({ version: 3, api_key: apiKey }) });
      expect(created.code, created.message).toBe(GrpcCode.OK);
      const sessionId = created.response!.sessionId;
      const ok = await clients.chat(via, { sessionId, prompt: "first turn" });
      expect(ok.code, ok.message).toBe(GrpcCode.OK);

      openai.enqueueFault({ kind: "unterminated" });
      const cut = await clients.chat(via, { sessionId, prompt: "cut me short" });
      expect(cut.code, cut.message).toBe(GrpcCode.UNAVAILABLE);
      expect(cut.message).toContain("the upstream reply ended early");
      expect(rpcProblems(cut, { secrets: [apiKey] })).toEqual([]);

      const next = await clients.chat(via, { sessionId, prompt: "third turn" });
      expect(next.code, next.message).toBe(GrpcCode.OK);
      const sent = (openai.requests.at(-1)!.body as { messages: { content: string }[] }).messages.map((m) => m.content);
      expect(sent).toEqual(expect.arrayContaining(["first turn", "echo: first turn", "third turn"]));
      expect(sent.join("\n")).not.toContain("cut me short");
    },
  );
});

describe("7. client-caused conditions are logged below error level, without a stack (hostile-upstream)", () => {
  const MALFORMED_CHUNKED = (n: number): string =>
    `POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
    `5\r\n{"pro\r\nzz${n}\r\nmpt":"x"}\r\n0\r\n\r\n`;

  it("a malformed chunked body to /ask → 400, and no error-level or stack log line", async () => {
    const before = program.logs.length;
    const answer = await clients.rawHttp(Buffer.from(MALFORMED_CHUNKED(1), "latin1"));
    expect(answer.status, answer.body).toBe(400);
    expect(httpProblems(answer)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the log line of a closed request may trail the answer
    expect(errorLogLines(program.logs.slice(before))).toEqual([]);
  });

  it("an upload aborted half-way and a gRPC call cancelled by its client → no error-level or stack log line", async () => {
    const before = program.logs.length;
    const aborted = await clients.rawHttp(
      Buffer.from(
        'POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":"ha',
        "latin1",
      ),
      { closeAfterMs: 50 },
    );
    expect(aborted.status === undefined || DOCUMENTED_HTTP_STATUSES.has(aborted.status)).toBe(true);

    const sessionId = await newSession();
    openai.enqueueFault({ kind: "hang" });
    const grpcClient = new GrpcJsClient(program.grpcUrl);
    const controller = new AbortController();
    const call = grpcClient.unary(
      ChatbotService.method.chat,
      { sessionId, prompt: "hang up on me" },
      { signal: controller.signal },
    );
    await vi.waitFor(() =>
      expect(openai.requests.at(-1)?.body).toMatchObject({
        messages: expect.arrayContaining([expect.objectContaining({ content: "hang up on me" })]),
      }),
    );
    controller.abort();
    expect((await grpcError(call)).code).toBe(GrpcCode.CANCELLED);
    grpcClient.close();
    await openai.waitForAbort(5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errorLogLines(program.logs.slice(before))).toEqual([]);
  });

  // Nothing is retained per malformed body. The program runs here with V8's heap capped
  // (64 MiB old space, 1 MiB semi-spaces): 2,000 bodies retaining even 32 KiB each would
  // overflow it (a crash, or RSS past the bound), while garbage is collected within it. With
  // V8's default sizing the same input takes RSS to ~230 MB of garbage not yet collected
  // (BENCHMARKS.md, "Memory under hostile input").
  it("nothing is retained per malformed chunked body: 2,000 of them within a capped heap, RSS under 200 MB", async () => {
    const capped = await startBuiltProgram({
      env: {
        OPENAI_API_KEYS: SERVER_KEY,
        API_URL: openai.url,
        NODE_OPTIONS: "--max-old-space-size=64 --max-semi-space-size=1",
      },
    });
    const cappedClients = new HostileClients(capped);
    try {
      for (let round = 0; round < 40; round++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            cappedClients.rawHttp(Buffer.from(MALFORMED_CHUNKED(round * 50 + i), "latin1"), { closeAfterMs: 0 }),
          ),
        );
        expect(answers.map((a) => a.status ?? 400).filter((status) => status !== 400)).toEqual([]);
      }
      expect(memoryOf(capped.child.pid!).rss / 2 ** 20, "RSS in MiB").toBeLessThan(200);
      expect((await cappedClients.http("/ask", JSON.stringify({ prompt: "still here" }))).status).toBe(200);
      expect(errorLogLines(capped.logs)).toEqual([]);
    } finally {
      cappedClients.close();
      expect(await capped.stop()).toBe(0);
    }
  });
});

describe("8. a request body that is not protobuf is the client's mistake (found by the fuzz suite; src/undecodable-request.ts)", () => {
  const NOT_PROTOBUF = [
    Uint8Array.of(0x00),
    Uint8Array.of(0xff, 0xff, 0xff),
    Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f),
  ];
  const NEW_SESSION = "/muvtuber.chatbot.v2.ChatbotService/NewSession";

  it("over gRPC → INVALID_ARGUMENT, not INTERNAL", async () => {
    for (const bytes of NOT_PROTOBUF) {
      const outcome = await clients.rawGrpc(NEW_SESSION, grpcFrame(bytes));
      expect(outcome.code, outcome.message).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(rpcProblems(outcome)).toEqual([]);
    }
  });

  it("over gRPC-web → INVALID_ARGUMENT in the trailer frame", async () => {
    for (const bytes of NOT_PROTOBUF) {
      const response = await fetch(new URL(NEW_SESSION, program.grpcUrl), {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: grpcFrame(bytes),
      });
      const text = Buffer.from(await response.arrayBuffer()).toString("latin1");
      expect(response.headers.get("grpc-status") ?? /grpc-status:\s*(\d+)/i.exec(text)?.[1], text).toBe(
        String(GrpcCode.INVALID_ARGUMENT),
      );
    }
  });

  it("over Connect (application/proto) → 400 invalid_argument, not 500", async () => {
    for (const bytes of NOT_PROTOBUF) {
      const outcome = await clients.rawConnect(NEW_SESSION, "application/proto", bytes);
      expect(outcome.status, outcome.message).toBe(400);
      expect(outcome.code).toBe(GrpcCode.INVALID_ARGUMENT);
    }
  });
});
