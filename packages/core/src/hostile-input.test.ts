/**
 * Regression tests for issue 10 at the pool: what a stranger may type (or an
 * upstream may answer) never crashes a turn and is refused before any work.
 */

import { rejection, ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "./errors.js";
import { SessionPool, type SessionPoolOptions } from "./session-pool.js";

const V3 = JSON.stringify({ version: 3, api_key: "sk-test-hostile" });
const pools: SessionPool[] = [];

function makePool(backend: ScriptedBackend, options: Partial<SessionPoolOptions> = {}): SessionPool {
  const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, cooldown: { apiKeyMs: 0 }, ...options });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe("special tokens are ordinary text", () => {
  it("in a prompt: `say <|endoftext|> please` is answered", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend);
    const { sessionId } = await pool.create({ config: V3 });
    expect(await pool.chat({ sessionId, prompt: "say <|endoftext|> please" })).toBe("echo: say <|endoftext|> please");
    expect((await pool.get(sessionId))!.historyTokens).toBeGreaterThan(10);
  });

  it("in an initial (system) prompt", async () => {
    const pool = makePool(new ScriptedBackend());
    const { sessionId } = await pool.create({ config: V3, initialPrompt: "You end every line with <|endoftext|>." });
    expect(await pool.chat({ sessionId, prompt: "hi" })).toBe("echo: hi");
  });

  it("in an initial prompt asked upstream", async () => {
    const pool = makePool(new ScriptedBackend({ initialPrompt: "ask" }), { cooldown: { accessTokenMs: 0 } });
    const created = await pool.create({
      config: JSON.stringify({ version: 1, access_token: "tok-test-a" }),
      initialPrompt: "<|im_start|>system",
    });
    expect(created.initialResponse).toBe("echo: <|im_start|>system");
  });

  it("in the upstream's reply", async () => {
    const pool = makePool(new ScriptedBackend({ script: () => "done <|endoftext|><|fim_middle|>" }));
    const { sessionId } = await pool.create({ config: V3 });
    expect(await pool.chat({ sessionId, prompt: "hi" })).toBe("done <|endoftext|><|fim_middle|>");
    expect((await pool.get(sessionId))!.historyLength).toBe(2);
  });
});

describe("prompt size limits", () => {
  it("a prompt over the limit is InvalidArgument before the session is even looked up", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { limits: { promptChars: 100 } });
    const { sessionId } = await pool.create({ config: V3 });
    const error = await rejection(pool.chat({ sessionId, prompt: "x".repeat(101) }));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.message).toBe("prompt is too long: the limit is 100 characters");
    expect(backend.requests).toHaveLength(0);
    // Checked before the session: an unknown session gets the same answer, not NOT_FOUND.
    expect((await rejection(pool.chat({ sessionId: "nope", prompt: "x".repeat(101) }))).code).toBe(
      ErrorCode.InvalidArgument,
    );
    expect(await pool.chat({ sessionId, prompt: "x".repeat(100) })).toBe(`echo: ${"x".repeat(100)}`);
  });

  it("an initial prompt over the limit is InvalidArgument and creates nothing", async () => {
    const backend = new ScriptedBackend({ initialPrompt: "ask" });
    const pool = makePool(backend, { limits: { initialPromptChars: 50 } });
    const config = JSON.stringify({ version: 1, access_token: "tok-test-a" });
    const error = await rejection(pool.create({ config, initialPrompt: "字".repeat(51) }));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.message).toBe("initial_prompt is too long: the limit is 50 characters");
    expect(backend.requests).toHaveLength(0);
    expect(await pool.size()).toBe(0);
    await pool.create({ config, initialPrompt: "字".repeat(50) });
  });

  it("the defaults: 4,000 characters for a prompt, 10,000 for an initial prompt", async () => {
    const pool = makePool(new ScriptedBackend());
    const { sessionId } = await pool.create({ config: V3, initialPrompt: "s".repeat(10_000) });
    await pool.chat({ sessionId, prompt: "p".repeat(4_000) });
    expect((await rejection(pool.chat({ sessionId, prompt: "p".repeat(4_001) }))).code).toBe(ErrorCode.InvalidArgument);
    expect((await rejection(pool.create({ config: V3, initialPrompt: "s".repeat(10_001) }))).code).toBe(
      ErrorCode.InvalidArgument,
    );
  });

  it("the largest accepted prompt without spaces is answered and counted", async () => {
    const pool = makePool(new ScriptedBackend({ script: () => "好".repeat(30_000) }));
    const { sessionId } = await pool.create({ config: V3, initialPrompt: "x".repeat(10_000) });
    await pool.chat({ sessionId, prompt: "今".repeat(4_000) });
    const info = (await pool.get(sessionId))!;
    expect(info.historyLength).toBe(2);
    expect(info.historyTokens).toBeGreaterThan(4_000);
  });
});
