/**
 * A body over the limit, from clients that close their connection after each
 * call (HTTP/1.1 `Connection: close`: Node's agent without keep-alive, Python's
 * urllib, curl -H "Connection: close"). The server answers before it has read
 * the body; Node would then close under the rest of the upload and the client
 * often saw `write EPIPE` instead of the answer (a fuzz run found it over
 * Connect; here, before the fix, about 1 call in 25 of the built program). Now
 * the connection reads the rest first, so every call gets its documented
 * status: RESOURCE_EXHAUSTED (Connect), 413 (HTTP API). Two calls at a time,
 * to the built program in a process of its own (in-process, client and server
 * share one event loop and the race hardly ever shows).
 */
import * as http from "node:http";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltProgram, fakeUpstreamsEnv, startBuiltProgram } from "./built-program.js";

/** Calls per client kind, two at a time. */
const CALLS = 60;

let openai: FakeOpenAI;
let web: FakeChatGPTWeb;
let program: BuiltProgram;
const agent = new http.Agent({ keepAlive: false });

beforeAll(async () => {
  openai = await startFakeOpenAI();
  web = await startFakeChatGPTWeb();
  program = await startBuiltProgram({
    env: fakeUpstreamsEnv({
      openaiUrl: openai.url,
      webUrl: web.url,
      serverKey: "sk-test-refused-uploads-0001",
      serverToken: "eyJhbGciOiJSUzI1NiJ9.test-refused-uploads",
      maxSessions: 10,
    }),
  });
}, 30_000);
afterAll(async () => {
  agent.destroy();
  await program?.stop();
  await openai?.close();
  await web?.close();
});

/** Runs `call` CALLS times, two at a time; counts the outcomes. */
async function tally(call: () => Promise<string>): Promise<Record<string, number>> {
  const outcomes = new Map<string, number>();
  for (let i = 0; i < CALLS; i += 2) {
    for (const outcome of await Promise.all([call(), call()])) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  return Object.fromEntries(outcomes);
}

describe("an upload over the limit from a client that closes after each call", () => {
  it.each([
    ["Connect JSON", false],
    ["Connect binary", true],
  ])("%s: every call is RESOURCE_EXHAUSTED (4 MiB), none a broken pipe", async (_name, useBinaryFormat) => {
    const client = createClient(
      ChatbotService,
      createConnectTransport({
        baseUrl: program.grpcUrl,
        httpVersion: "1.1",
        useBinaryFormat,
        nodeOptions: { agent },
      }),
    );
    const config = JSON.stringify({ version: 3, pad: "x".repeat(6_000_000) });
    const outcomes = await tally(() =>
      client.newSession({ config }).then(
        () => "OK",
        (error: unknown) => `${ConnectError.from(error).code}: ${ConnectError.from(error).rawMessage}`,
      ),
    );
    expect(outcomes).toEqual({
      [`${Code.ResourceExhausted}: message size is larger than configured readMaxBytes 4194304`]: CALLS,
    });
  });

  it("HTTP API: every POST /ask over the body limit (1 MiB) is 413, none a broken pipe", async () => {
    const url = new URL("/ask", program.httpUrl);
    const body = JSON.stringify({ prompt: "x".repeat(6_000_000) });
    const outcomes = await tally(
      () =>
        new Promise<string>((resolve) => {
          const req = http.request(
            url,
            { method: "POST", agent, headers: { "content-type": "application/json" } },
            (res) => {
              res.resume();
              res.on("end", () => resolve(String(res.statusCode)));
            },
          );
          req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
          req.end(body);
        }),
    );
    expect(outcomes).toEqual({ "413": CALLS });
  });
});
