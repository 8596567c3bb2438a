/**
 * Several replicas, one pool (issue 14), end to end: two BUILT programs
 * (`node dist/main.js`) on one real redis-server of the test's own, started
 * on a free loopback port, talking to a fake OpenAI upstream. One pair runs
 * on a Redis with requirepass and AOF (so a restarted Redis keeps its
 * sessions), the other on one without a password, with a long cooldown.
 */
import { randomUUID } from "node:crypto";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltProgram, startBuiltProgram } from "./built-program.js";
import { connectCall, healthOf } from "./connect-json.js";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "./redis-server.js";

const SERVER_KEY = "sk-test-replicas-operator-0001";

/** Starts two replicas on one Redis, with the same environment. */
async function startPair({
  redis,
  fake,
  env = {},
}: {
  redis: TestRedis;
  fake: FakeOpenAI;
  env?: Record<string, string>;
}) {
  const shared = {
    CHATBOT_STORE: redis.url(),
    CHATBOT_REDIS_PREFIX: `e2e-${randomUUID().slice(0, 8)}:`,
    API_URL: fake.url,
    OPENAI_API_KEY: SERVER_KEY,
    CHATGPT_V3_COOLDOWN: "0",
    CHATBOT_MAX_TOKENS: "100000",
    LOG_LEVEL: "info",
    ...env,
  };
  return Promise.all([startBuiltProgram({ env: shared }), startBuiltProgram({ env: shared })]);
}

const newSession = (program: BuiltProgram, config = "") =>
  connectCall({ base: program.grpcUrl, method: "NewSession", body: { config } });
const chat = (program: BuiltProgram, sessionId: string, prompt: string, timeoutMs?: number) =>
  connectCall({
    base: program.grpcUrl,
    method: "Chat",
    body: { sessionId, prompt },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
const remove = (program: BuiltProgram, sessionId: string) =>
  connectCall({ base: program.grpcUrl, method: "DeleteSession", body: { sessionId } });

/** The messages the upstream got in the last request: the session's history as the pool sent it, then the prompt. */
const lastMessages = (fake: FakeOpenAI): Array<{ role: string; content: string }> =>
  (fake.requests.at(-1)?.body.messages ?? []) as Array<{ role: string; content: string }>;

async function until<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  for (;;) {
    const value = await probe().catch((error: unknown) => error as T);
    if (accept(value)) return { value, ms: performance.now() - start };
    if (performance.now() - start > timeoutMs)
      throw new Error(`not within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skipWithoutRedis)("two replicas on one Redis with requirepass", () => {
  let redis: TestRedis;
  let fake: FakeOpenAI;
  let a: BuiltProgram;
  let b: BuiltProgram;

  beforeAll(async () => {
    redis = await startTestRedis({ password: "test-only-replicas-pass", persist: true });
    fake = await startFakeOpenAI();
    [a, b] = await startPair({ redis, fake });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    await redis?.close();
  });

  it("names the store in the listening line with the password masked, and never logs the password", () => {
    const listening = a.logs.find((line) => line.msg === "listening");
    expect(listening).toMatchObject({ store: "redis", redis: `redis://:***@127.0.0.1:${redis.port}/0` });
    expect(JSON.stringify([a.logs, b.logs, a.otherOutput, b.otherOutput])).not.toContain("test-only-replicas-pass");
  });

  it("create on A, chat on B: the history continues", async () => {
    const created = await newSession(a);
    expect(created.status).toBe(200);
    const sessionId = String(created.body.sessionId);
    expect((await chat(a, sessionId, "one on A")).body.response).toBe("echo: one on A");
    expect((await chat(b, sessionId, "two on B")).body.response).toBe("echo: two on B");
    expect(lastMessages(fake).filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "one on A" },
      { role: "assistant", content: "echo: one on A" },
      { role: "user", content: "two on B" },
    ]);
  });

  it("20 concurrent chats on one session split across A and B: 20 turns, none lost or doubled, each reply after its prompt", async () => {
    const sessionId = String((await newSession(b)).body.sessionId);
    const prompts = Array.from({ length: 20 }, (_, i) => `turn ${i}`);
    const replies = await Promise.all(prompts.map((prompt, i) => chat(i % 2 === 0 ? a : b, sessionId, prompt)));
    expect(replies.map((reply) => reply.status)).toEqual(prompts.map(() => 200));
    expect(replies.map((reply) => reply.body.response)).toEqual(prompts.map((prompt) => `echo: ${prompt}`));
    // One more turn shows the whole history as the store holds it.
    await chat(a, sessionId, "last");
    const history = lastMessages(fake)
      .filter((m) => m.role !== "system")
      .slice(0, -1);
    expect(history).toHaveLength(40);
    const users = history.filter((_, i) => i % 2 === 0);
    expect(users.every((m) => m.role === "user")).toBe(true);
    expect(history.filter((_, i) => i % 2 === 1)).toEqual(
      users.map((m) => ({ role: "assistant", content: `echo: ${m.content}` })),
    );
    expect(users.map((m) => m.content).sort()).toEqual([...prompts].sort());
  });

  it("delete on A → NOT_FOUND on B", async () => {
    const sessionId = String((await newSession(a)).body.sessionId);
    expect((await chat(b, sessionId, "hi")).status).toBe(200);
    expect((await remove(a, sessionId)).status).toBe(200);
    const after = await chat(b, sessionId, "still there?");
    expect(after.status).toBe(404);
    expect(after.body.code).toBe("not_found");
    expect((await remove(b, sessionId)).body.code).toBe("not_found");
  });

  it("a session id past the bound is INVALID_ARGUMENT before the replica takes its turn", async () => {
    const reply = await chat(b, "x".repeat(10_000), "hi");
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("invalid_argument");
  });

  it("Redis restarted mid-run: UNAVAILABLE within 3 s, health NOT_SERVING within 5 s, then every session works again", async () => {
    const sessions = await Promise.all([newSession(a), newSession(b), newSession(a)]).then((all) =>
      all.map((r) => String(r.body.sessionId)),
    );
    for (const sessionId of sessions) expect((await chat(b, sessionId, "before")).status).toBe(200);
    expect(await healthOf(a.grpcUrl)).toBe("SERVING");

    await redis.stop();
    const started = performance.now();
    const failed = await chat(a, sessions[0]!, "during");
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(failed.body).toMatchObject({ code: "unavailable", message: "session store unavailable" });
    const created = await newSession(b);
    expect(created.body.code).toBe("unavailable");

    const notServing = await Promise.all(
      [a, b].map((program) =>
        until(
          () => healthOf(program.grpcUrl),
          (status) => status === "NOT_SERVING",
          5_000,
        ),
      ),
    );
    expect(notServing.every(({ ms }) => ms < 5_000)).toBe(true);
    expect((await fetch(`${a.httpUrl}/healthz`)).status).toBe(503);

    await redis.start();
    for (const program of [a, b]) {
      await until(
        () => healthOf(program.grpcUrl),
        (status) => status === "SERVING",
        10_000,
      );
      for (const sessionId of sessions) {
        const { value } = await until(
          () => chat(program, sessionId, "after"),
          (reply) => reply.status === 200,
          10_000,
        );
        expect(value.body.response).toBe("echo: after");
      }
    }
    expect((await fetch(`${b.httpUrl}/healthz`)).status).toBe(200);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 60_000);

  it("the HTTP API's default session is one for both replicas, and a renew on A is taken up by B", async () => {
    const ask = (program: BuiltProgram, prompt: string) =>
      fetch(`${program.httpUrl}/ask`, { method: "POST", body: JSON.stringify({ prompt }) }).then(async (res) => ({
        status: res.status,
        text: await res.text(),
      }));
    // The very first asks reach both replicas at once: they still agree on one session.
    expect(await Promise.all([ask(a, "first"), ask(b, "second")])).toEqual([
      { status: 200, text: "echo: first" },
      { status: 200, text: "echo: second" },
    ]);
    expect(await ask(a, "next")).toEqual({ status: 200, text: "echo: next" });
    expect(
      lastMessages(fake)
        .filter((m) => m.role === "user")
        .map((m) => m.content)
        .sort(),
    ).toEqual(["first", "next", "second"]);
    const renewed = await fetch(`${a.httpUrl}/renew`, {
      method: "POST",
      body: JSON.stringify({ api_key: "sk-test-replicas-renewed-0002", version: 3 }),
    });
    expect(renewed.status).toBe(200);
    expect(await ask(b, "third")).toEqual({ status: 200, text: "echo: third" });
    expect(fake.requests.at(-1)?.headers.authorization).toBe("Bearer sk-test-replicas-renewed-0002");
    expect(JSON.stringify([a.logs, b.logs])).not.toContain("sk-test-replicas-renewed-0002");
  });

  it("SIGKILL A in the middle of a chat → B serves that session once the lease expires", async () => {
    const sessionId = String((await newSession(a)).body.sessionId);
    expect((await chat(a, sessionId, "before")).status).toBe(200);
    const sent = fake.requests.length;
    fake.enqueueFault({ kind: "hang" });
    const hanging = chat(a, sessionId, "never answered").catch(() => undefined);
    await until(
      async () => fake.requests.length,
      (n) => n > sent,
      5_000,
    ); // A holds the turn, inside the upstream call
    a.child.kill("SIGKILL");
    await a.exited;
    await hanging;
    const started = performance.now();
    const reply = await chat(b, sessionId, "after the kill", 30_000);
    expect(reply.body.response).toBe("echo: after the kill");
    expect(performance.now() - started).toBeLessThan(15_000); // the lease is 10 s
    // The killed turn wrote nothing: B's history goes on from "before".
    expect(
      lastMessages(fake)
        .filter((m) => m.role !== "system")
        .map((m) => m.content),
    ).toEqual(["before", "echo: before", "after the kill"]);
  }, 60_000);
});

describe.skipIf(skipWithoutRedis)("two replicas on one Redis without a password", () => {
  let redis: TestRedis;
  let fake: FakeOpenAI;
  let a: BuiltProgram;
  let b: BuiltProgram;

  beforeAll(async () => {
    redis = await startTestRedis();
    fake = await startFakeOpenAI();
    [a, b] = await startPair({ redis, fake, env: { CHATGPT_V3_COOLDOWN: "60" } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    await redis?.close();
  });

  it("a cooldown started on A refuses on B, on another session with the same key", async () => {
    const config = JSON.stringify({ version: 3, api_key: "sk-test-replicas-cooldown-0003" });
    const onA = String((await newSession(a, config)).body.sessionId);
    const onB = String((await newSession(b, config)).body.sessionId);
    expect((await chat(a, onA, "hi")).status).toBe(200);
    const sent = fake.requests.length;
    const refused = await chat(b, onB, "too soon");
    expect(refused.body.code).toBe("resource_exhausted");
    expect(fake.requests.length).toBe(sent);
  });
});
