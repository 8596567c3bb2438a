/**
 * The upstream fault matrix, end to end: the whole program (real session
 * pool, real backends, real sockets), a grpc-js client for `Chat` and plain
 * fetch for the legacy `/ask`, against the testkit's fake upstreams. Each
 * fault gives its documented status (README: "What a client sees" and the
 * HTTP API's status table) within its time bound, and the session's next
 * chat succeeds with its history intact: the fakes record what is sent, so
 * the earlier turns are checked to be there and the failed turn to be absent.
 *
 * Retries are off (CHATBOT_MAX_RETRIES=0) so each fault is what the client
 * sees; retries themselves are tested in chatgpt-client's backend tests.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { RetryInfoSchema } from "@chatgptchatbot/grpc-server";
import { ChatbotService } from "@chatgptchatbot/proto";
import {
  type FakeChatGPTWeb,
  type FakeOpenAI,
  type Fault,
  startFakeChatGPTWeb,
  startFakeOpenAI,
} from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcJsClient, grpc, grpcError } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";
import { statusDetails } from "./status-details.js";
import { startUpstreamGate, type UpstreamGate } from "./upstream-gate.js";

const { newSession: NewSession, chat: Chat } = ChatbotService.method;
const API_KEY = "sk-test-fault-matrix-0123456789";
const ACCESS_TOKEN = "eyJ-test-fault-matrix-access-token";
/** CHATBOT_REQUEST_TIMEOUT: the bound of a hanging or trickling upstream. */
const TIMEOUT_MS = 1000;
/** How long any other failure may take to reach the client (generous: the machine is shared). */
const PROMPT_FAILURE_MS = 3000;
/** A trickle slow enough that the reply's whole takes past the timeout, though every event comes well in time. */
const TRICKLE: Fault = { kind: "trickle", intervalMs: 250 };
const SLOW_PROMPT = "one two three four five six seven eight nine ten eleven twelve";

type Backend = "openai" | "chatgpt-web";

interface FaultCase {
  readonly name: string;
  /** The fault the fake plays, or "refused": the upstream's port is closed. */
  readonly fault: Fault | "refused";
  /** The reason the client sees, by backend. */
  readonly message: Record<Backend, RegExp>;
  /** The legacy HTTP API's status. */
  readonly http: number;
  /** Seconds in Retry-After / RetryInfo, when the upstream said. */
  readonly retryAfter?: number;
  /** Whether the failure is a timeout (bounded by CHATBOT_REQUEST_TIMEOUT) rather than prompt. */
  readonly timeout?: boolean;
}

const both = (pattern: RegExp) => ({ openai: pattern, "chatgpt-web": pattern });
const answered = (status: number) => both(new RegExp(`^the upstream answered ${status}: `));
const timedOut = both(/^the upstream timed out after 1 s$/);

const CASES: readonly FaultCase[] = [
  { name: "401 (a refused credential)", fault: { kind: "status", status: 401 }, message: answered(401), http: 502 },
  { name: "403", fault: { kind: "status", status: 403 }, message: answered(403), http: 502 },
  {
    name: "404 (an unknown model)",
    fault: { kind: "status", status: 404, message: "The model `gpt-nope` does not exist" },
    message: both(/^the upstream answered 404: The model `gpt-nope` does not exist$/),
    http: 502,
  },
  {
    name: "429 with Retry-After",
    fault: { kind: "status", status: 429, retryAfter: 7 },
    message: answered(429),
    http: 503,
    retryAfter: 7,
  },
  { name: "500", fault: { kind: "status", status: 500 }, message: answered(500), http: 502 },
  {
    name: "503",
    fault: { kind: "status", status: 503, message: "overloaded" },
    message: both(/^the upstream answered 503: overloaded$/),
    http: 503,
  },
  {
    name: "malformed JSON",
    fault: { kind: "malformed" },
    message: {
      openai: /^the upstream sent a malformed reply \(invalid JSON\)$/,
      "chatgpt-web": /^the upstream sent a malformed reply \(1 event was not JSON\)$/,
    },
    http: 502,
  },
  {
    name: "a cut stream",
    fault: { kind: "cut" },
    message: both(/^the upstream connection closed before the reply was complete \(\w+\)$/),
    http: 503,
  },
  {
    name: "an error event",
    fault: { kind: "error-event", message: "model crashed" },
    message: both(/^the upstream reported an error: model crashed$/),
    http: 502,
  },
  {
    name: "an end without terminator",
    fault: { kind: "unterminated" },
    message: both(/^the upstream reply ended early$/),
    http: 502,
  },
  { name: "a hang past the timeout", fault: { kind: "hang" }, message: timedOut, http: 503, timeout: true },
  {
    name: "connection refused",
    fault: "refused",
    message: both(/^could not connect to the upstream \(ECONNREFUSED\)$/),
    http: 503,
  },
  { name: "a slow trickle", fault: TRICKLE, message: timedOut, http: 503, timeout: true },
];

let openai: FakeOpenAI;
let web: FakeChatGPTWeb;
let openaiGate: UpstreamGate;
let webGate: UpstreamGate;
let program: RunningProgram;
let client: GrpcJsClient;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  web = await startFakeChatGPTWeb();
  openaiGate = await startUpstreamGate({ target: openai.origin });
  webGate = await startUpstreamGate({ target: web.origin });
  program = await startProgram({
    argv: ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"],
    env: {
      API_URL: `${openaiGate.origin}/v1`,
      OPENAI_API_KEY: API_KEY,
      CHATGPT_BASE_URL: `${webGate.origin}/backend-api`,
      CHATGPT_COOLDOWN: "0",
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_MAX_RETRIES: "0",
      CHATBOT_REQUEST_TIMEOUT: String(TIMEOUT_MS / 1000),
      LOG_LEVEL: "warn",
    },
  });
  client = new GrpcJsClient(program.grpcUrl);
});

afterAll(async () => {
  client?.close();
  await program?.stop();
  await openaiGate?.close();
  await webGate?.close();
  await openai?.close();
  await web?.close();
});

/** What one backend needs from the matrix: its fake, its gate, and how its history is checked. */
interface BackendUnderTest {
  readonly name: Backend;
  readonly config: string;
  readonly renew: object;
  enqueue(fault: Fault): void;
  gate(): UpstreamGate;
  /**
   * Checks that the last request carried every earlier successful turn (`prompts`, oldest first, the new one last)
   * and nothing of the failed ones.
   */
  expectHistory(prompts: readonly string[]): void;
}

const BACKENDS: readonly BackendUnderTest[] = [
  {
    name: "openai",
    config: JSON.stringify({ version: 3, api_key: API_KEY, filter: false }),
    renew: { api_key: API_KEY, version: 3 },
    enqueue: (fault) => openai.enqueueFault(fault),
    gate: () => openaiGate,
    expectHistory(prompts) {
      // The API-key backend sends the whole history each turn: system prompt, earlier turns, the new prompt.
      const sent = openai.requests.at(-1)?.body.messages.slice(1);
      const expected = prompts.flatMap((prompt, index) =>
        index === prompts.length - 1
          ? [{ role: "user", content: prompt }]
          : [
              { role: "user", content: prompt },
              { role: "assistant", content: `echo: ${prompt}` },
            ],
      );
      expect(sent).toEqual(expected);
    },
  },
  {
    name: "chatgpt-web",
    config: JSON.stringify({ version: 1, access_token: ACCESS_TOKEN, filter: false }),
    renew: { access_token: ACCESS_TOKEN, version: 1 },
    enqueue: (fault) => web.enqueueFault(fault),
    gate: () => webGate,
    expectHistory(prompts) {
      // The web backend sends only the new prompt with the previous reply's id; the fake answers 400 to any
      // other parent, and its conversation keeps whole turns only: the thread holds exactly the successful turns.
      const last = web.requests.at(-1)?.body;
      const thread = web.conversations.get(last?.conversation_id ?? "");
      expect(thread?.messages.filter((message) => message.role === "user").map((message) => message.text)).toEqual(
        prompts,
      );
      expect(last?.parent_message_id).toBe(thread?.messages.at(-3)?.id);
    },
  },
];

/** Plays one fault (or closes the upstream's port) around `call`, and measures how long the failure took. */
async function withFault<T>(
  backend: BackendUnderTest,
  fault: FaultCase["fault"],
  call: () => Promise<T>,
): Promise<{ result: T; elapsedMs: number }> {
  if (fault === "refused") await backend.gate().shut();
  else backend.enqueue(fault);
  const started = performance.now();
  try {
    const result = await call();
    return { result, elapsedMs: performance.now() - started };
  } finally {
    if (fault === "refused") await backend.gate().reopen();
  }
}

function expectWithinBound(testCase: FaultCase, elapsedMs: number): void {
  if (testCase.timeout) {
    expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS + PROMPT_FAILURE_MS);
  } else {
    expect(elapsedMs).toBeLessThan(PROMPT_FAILURE_MS);
  }
}

const promptFor = (testCase: FaultCase, what: string) => (testCase.fault === TRICKLE ? `${what} ${SLOW_PROMPT}` : what);

describe.each(BACKENDS)("upstream faults, $name backend", (backend) => {
  describe("over gRPC: Chat", () => {
    let sessionId = "";
    const prompts: string[] = [];

    beforeAll(async () => {
      ({ sessionId } = await client.unary(NewSession, { config: backend.config }));
      const first = "hello";
      expect((await client.unary(Chat, { sessionId, prompt: first })).response).toBe(`echo: ${first}`);
      prompts.push(first);
    });

    it.each(CASES)("$name → UNAVAILABLE, then the next chat succeeds with the history intact", async (testCase) => {
      const { result: error, elapsedMs } = await withFault(backend, testCase.fault, () =>
        grpcError(client.unary(Chat, { sessionId, prompt: promptFor(testCase, `failed ${testCase.name}`) })),
      );
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.details).toMatch(testCase.message[backend.name]);
      expectWithinBound(testCase, elapsedMs);
      const retryInfo = statusDetails(error)?.details.find(
        (detail) => detail.typeUrl === "type.googleapis.com/google.rpc.RetryInfo",
      );
      if (testCase.retryAfter === undefined) expect(retryInfo).toBeUndefined();
      else {
        const info = fromBinary(RetryInfoSchema, retryInfo!.value) as unknown as { retryDelay: { seconds: bigint } };
        expect(Number(info.retryDelay.seconds)).toBe(testCase.retryAfter);
      }

      const next = `after ${testCase.name}`;
      expect((await client.unary(Chat, { sessionId, prompt: next })).response).toBe(`echo: ${next}`);
      prompts.push(next);
      backend.expectHistory(prompts);
    });
  });

  describe("over the legacy HTTP API: /ask", () => {
    const prompts: string[] = [];
    const ask = (prompt: string) =>
      fetch(`${program.httpUrl}/ask`, { method: "POST", body: JSON.stringify({ prompt }) });

    beforeAll(async () => {
      // A new default session under this backend's credential; its first turn starts the history.
      const renewed = await fetch(`${program.httpUrl}/renew`, { method: "POST", body: JSON.stringify(backend.renew) });
      expect(renewed.status).toBe(200);
      const first = "hi there";
      expect(await (await ask(first)).text()).toBe(`echo: ${first}`);
      prompts.push(first);
    });

    it.each(CASES)(
      "$name → its documented status, then the next ask succeeds with the history intact",
      async (testCase) => {
        const prompt = promptFor(testCase, `failed ${testCase.name}`);
        const { result: response, elapsedMs } = await withFault(backend, testCase.fault, () => ask(prompt));
        const body = await response.text();
        expect({ status: response.status, body }).toEqual({
          status: testCase.http,
          body: expect.stringMatching(testCase.message[backend.name]),
        });
        expectWithinBound(testCase, elapsedMs);
        expect(response.headers.get("retry-after")).toBe(
          testCase.retryAfter === undefined ? null : String(testCase.retryAfter),
        );

        const next = `after ${testCase.name}`;
        const answer = await ask(next);
        expect({ status: answer.status, body: await answer.text() }).toEqual({ status: 200, body: `echo: ${next}` });
        prompts.push(next);
        backend.expectHistory(prompts);
      },
    );
  });

  it("logged each failure as a warning, never at error level and never with a credential", () => {
    expect(program.logs.filter((line) => line.msg === "upstream request failed").length).toBeGreaterThanOrEqual(
      CASES.length,
    );
    const errors = program.logs.filter((line) =>
      typeof line.level === "number" ? line.level >= 50 : line.level === "error",
    );
    expect(errors).toEqual([]);
    const text = JSON.stringify(program.logs);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(ACCESS_TOKEN);
  });
});
