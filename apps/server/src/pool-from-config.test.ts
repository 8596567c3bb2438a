import { ErrorCode, type SessionPool } from "@chatgptchatbot/core";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBackendsFromConfig } from "./backends-from-config.js";
import { readConfig } from "./config.js";
import { createPoolFromConfig } from "./pool-from-config.js";

let fake: FakeOpenAI;
const cleanup: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
  await fake.close();
});

/** The program's composition for one environment: backends and pool, closed after the test. */
function compose(env: Record<string, string>): SessionPool {
  const config = readConfig({ CHATBOT_SWEEP_INTERVAL: "0", ...env });
  const backends = createBackendsFromConfig({ config });
  const pool = createPoolFromConfig({ config, backends: backends.resolve });
  cleanup.push(
    () => pool.close(),
    () => backends.close(),
  );
  return pool;
}

describe("createPoolFromConfig", () => {
  it("carries the session limit, the cooldown and the default key into the pool", async () => {
    const pool = compose({
      API_URL: fake.url,
      CHATBOT_MAX_SESSIONS: "1",
      CHATGPT_V3_COOLDOWN: "0",
      OPENAI_API_KEY: "sk-test-server-key-0001",
    });
    const { sessionId } = await pool.create({ config: "" });
    expect(await pool.chat({ sessionId, prompt: "a" })).toBe("echo: a");
    expect(await pool.chat({ sessionId, prompt: "b" })).toBe("echo: b"); // no cooldown
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer sk-test-server-key-0001",
      "Bearer sk-test-server-key-0001",
    ]);
    await expect(pool.create({ config: "" })).rejects.toMatchObject({ code: ErrorCode.TooManySessions });
  });

  it("carries the prompt size limits", async () => {
    const pool = compose({
      API_URL: fake.url,
      CHATBOT_MAX_PROMPT_CHARS: "3",
      CHATBOT_MAX_INITIAL_PROMPT_CHARS: "5",
      CHATGPT_V3_COOLDOWN: "0",
    });
    const config = JSON.stringify({ version: 3, api_key: "sk-test-session-key-0004" });
    await expect(pool.create({ config, initialPrompt: "123456" })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    const { sessionId } = await pool.create({ config, initialPrompt: "12345" });
    await expect(pool.chat({ sessionId, prompt: "1234" })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(await pool.chat({ sessionId, prompt: "123" })).toBe("echo: 123");
  });

  it("carries the segment lengths into streamed replies", async () => {
    const run = "one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen";
    const sentences = async (env: Record<string, string>): Promise<string[]> => {
      const pool = compose({ API_URL: fake.url, CHATGPT_V3_COOLDOWN: "0", ...env });
      const { sessionId } = await pool.create({
        config: JSON.stringify({ version: 3, api_key: "sk-test-session-key-0005" }),
      });
      const out: string[] = [];
      for await (const part of pool.chatStream({ sessionId, prompt: run }))
        if (part.type === "sentence") out.push(part.text);
      return out;
    };
    expect((await sentences({}))[0]).toBe("echo: one, two, three,"); // the first clause mark past the default 20
    const cut = await sentences({ CHATBOT_MAX_SEGMENT_LENGTH: "40", CHATBOT_FIRST_SEGMENT_MIN_LENGTH: "100000" });
    expect(cut.length).toBeGreaterThan(1);
    for (const segment of cut) expect(segment.length).toBeLessThanOrEqual(40);
    const early = await sentences({ CHATBOT_FIRST_SEGMENT_MIN_LENGTH: "8" });
    expect(early[0]).toBe("echo: one,");
  });

  it("keeps the default cooldown between two requests with one key", async () => {
    const pool = compose({ API_URL: fake.url, OPENAI_API_KEY: "sk-test-server-key-0002" });
    const { sessionId } = await pool.create({ config: "" });
    await pool.chat({ sessionId, prompt: "a" });
    await expect(pool.chat({ sessionId, prompt: "b" })).rejects.toMatchObject({ code: ErrorCode.Cooldown });
  });
});

describe("createBackendsFromConfig", () => {
  it("takes the endpoint, the default model and the retries from the configuration", async () => {
    const pool = compose({
      API_URL: `${fake.url}/chat/completions`,
      CHATGPT_MODEL: "from-env-model",
      CHATBOT_MAX_RETRIES: "0",
      CHATGPT_V3_COOLDOWN: "0",
    });
    fake.enqueueFault({ kind: "status", status: 500 });
    const { sessionId } = await pool.create({
      config: JSON.stringify({ version: 3, api_key: "sk-test-session-key-0003" }),
    });
    await expect(pool.chat({ sessionId, prompt: "hi" })).rejects.toMatchObject({ code: ErrorCode.Upstream });
    expect(fake.requests).toHaveLength(1); // CHATBOT_MAX_RETRIES=0
    expect(await pool.chat({ sessionId, prompt: "hi" })).toBe("echo: hi");
    expect(fake.requests[1]!.body.model).toBe("from-env-model");
  });
});
