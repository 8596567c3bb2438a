import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AskPart } from "./backend.js";
import { ErrorCode } from "./errors.js";
import type { PoolObserver } from "./pool-observer.js";
import { SessionPool, type SessionPoolOptions } from "./session-pool.js";
import { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from "./token-counter.js";

type Event = { hook: keyof PoolObserver; info: unknown };

/** An observer that records every hook call in order. */
function recorder(): { observer: PoolObserver; events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    observer: {
      cooldownRefused: (info) => events.push({ hook: "cooldownRefused", info }),
      firstSegment: (info) => events.push({ hook: "firstSegment", info }),
      tokens: (info) => events.push({ hook: "tokens", info }),
    },
  };
}

const pools: SessionPool[] = [];
function makePool(backend: ScriptedBackend, options: Partial<SessionPoolOptions>): SessionPool {
  const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, cooldown: { apiKeyMs: 0 }, ...options });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

// The tokenizer's first load takes seconds on a busy machine: once here, not inside the first test's time limit.
beforeAll(async () => {
  await loadTokenCounter(undefined); // (returning the counter would make vitest call it as a teardown)
}, 60_000);

const V3 = JSON.stringify({ version: 3, api_key: "sk-test-observer" });

describe("SessionPool observer", () => {
  it("reports the upstream's usage when the finish part carries it", async () => {
    const { observer, events } = recorder();
    const backend = new ScriptedBackend({
      script: async function* (): AsyncIterable<AskPart> {
        yield { type: "text", text: "hello there" };
        yield { type: "finish", usage: { promptTokens: 42, completionTokens: 7 } };
      },
    });
    const pool = makePool(backend, { observer });
    const { sessionId } = await pool.create({ config: V3 });
    await pool.chat({ sessionId, prompt: "hi" });
    expect(events).toEqual([
      { hook: "tokens", info: { kind: "api-key", direction: "sent", tokens: 42, reported: true } },
      { hook: "tokens", info: { kind: "api-key", direction: "received", tokens: 7, reported: true } },
    ]);
  });

  it("counts tokens itself when the upstream reports none: system prompt, history and prompt sent, reply received", async () => {
    const { observer, events } = recorder();
    const backend = new ScriptedBackend({ script: (request) => `echo: ${request.prompt}` });
    const pool = makePool(backend, { observer });
    const { sessionId } = await pool.create({ config: V3, initialPrompt: "You are terse." });
    await pool.chat({ sessionId, prompt: "first" });
    events.length = 0;
    await pool.chat({ sessionId, prompt: "second" });
    const count = await loadTokenCounter(undefined);
    const message = (text: string): number => count(text) + MESSAGE_OVERHEAD_TOKENS;
    const sent = message("You are terse.") + message("first") + message("echo: first") + message("second");
    expect(events).toEqual([
      { hook: "tokens", info: { kind: "api-key", direction: "sent", tokens: sent, reported: false } },
      {
        hook: "tokens",
        info: { kind: "api-key", direction: "received", tokens: count("echo: second"), reported: false },
      },
    ]);
  });

  it("reports a cooldown refusal with the credential's kind, and no tokens for the refused chat", async () => {
    const { observer, events } = recorder();
    const pool = makePool(new ScriptedBackend(), { observer, cooldown: { apiKeyMs: 60_000 } });
    const { sessionId } = await pool.create({ config: V3 });
    await pool.chat({ sessionId, prompt: "one" });
    events.length = 0;
    await expect(pool.chat({ sessionId, prompt: "two" })).rejects.toMatchObject({ code: ErrorCode.Cooldown });
    expect(events).toEqual([{ hook: "cooldownRefused", info: { kind: "api-key" } }]);
  });

  it("reports the first streamed sentence once per stream, and never for chat()", async () => {
    const { observer, events } = recorder();
    const backend = new ScriptedBackend({ script: () => "First sentence here. Second sentence here. Third one." });
    const pool = makePool(backend, { observer });
    const { sessionId } = await pool.create({ config: V3 });
    await pool.chat({ sessionId, prompt: "no stream" });
    expect(events.filter((e) => e.hook === "firstSegment")).toEqual([]);
    const sentences: string[] = [];
    for await (const part of pool.chatStream({ sessionId, prompt: "stream" }))
      if (part.type === "sentence") sentences.push(part.text);
    expect(sentences.length).toBeGreaterThan(1);
    const first = events.filter((e) => e.hook === "firstSegment");
    expect(first).toHaveLength(1);
    expect(first[0]!.info).toMatchObject({ kind: "api-key", seconds: expect.any(Number) });
    expect((first[0]!.info as { seconds: number }).seconds).toBeGreaterThanOrEqual(0);
  });

  it("a throwing observer never fails a chat", async () => {
    const observer: PoolObserver = {
      tokens: () => {
        throw new Error("metrics broke");
      },
    };
    const pool = makePool(new ScriptedBackend(), { observer });
    const { sessionId } = await pool.create({ config: V3 });
    await expect(pool.chat({ sessionId, prompt: "still fine" })).resolves.toBe("echo: still fine");
  });
});
