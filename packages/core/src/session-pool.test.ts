import { rejection, ScriptedBackend, upstreamDown } from "@chatgptchatbot/testkit/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ErrorCode } from "./errors.js";
import type { Logger } from "./logger.js";
import { MemoryCoordinator } from "./memory-coordinator.js";
import { MAX_SESSION_ID_CHARS } from "./session-id.js";
import { SessionPool, type SessionPoolOptions } from "./session-pool.js";
import { MemorySessionStore } from "./session-store.js";

const V3 = (key = "sk-test-a") => JSON.stringify({ version: 3, api_key: key });
const V1 = (token = "tok-test-a") => JSON.stringify({ version: 1, access_token: token });

const pools: SessionPool[] = [];
function makePool(backend: ScriptedBackend, options: Partial<SessionPoolOptions> = {}): SessionPool {
  const pool = new SessionPool({ backends: () => backend, sweepIntervalMs: 0, ...options });
  pools.push(pool);
  return pool;
}

const codeOf = async (promise: Promise<unknown>): Promise<string> => (await rejection(promise)).code;

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  vi.useRealTimers();
});

/** A store that keeps only JSON copies, as a persistent or shared store would. */
class JsonStore extends MemorySessionStore {
  override async get(id: string) {
    const record = await super.get(id);
    return record === undefined ? undefined : structuredClone(JSON.parse(JSON.stringify(record)));
  }
  override async create(record: Parameters<MemorySessionStore["create"]>[0]) {
    return super.create(JSON.parse(JSON.stringify(record)));
  }
  override async list() {
    return (await super.list()).map((r) => JSON.parse(JSON.stringify(r)));
  }
}

describe.each([
  ["in memory", () => new MemorySessionStore()],
  ["JSON copies", () => new JsonStore()],
])("SessionPool over a store (%s)", (_name, makeStore) => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") }));

  it("keeps history, conversation state and renewals across saves", async () => {
    const store = makeStore();
    const backend = new ScriptedBackend({ initialPrompt: "ask" });
    const pool = makePool(backend, { store, renewIntervalMs: 60_000, cooldown: { accessTokenMs: 0 } });
    const { sessionId, initialResponse } = await pool.create({ config: V1(), initialPrompt: "Be a cat." });
    expect(initialResponse).toBe("echo: Be a cat.");
    await pool.chat({ sessionId, prompt: "one" });
    await pool.chat({ sessionId, prompt: "two" });
    expect(backend.requests.at(-1)!.conversation).toEqual({ conversationId: "c1", turn: 2 });
    expect((await pool.get(sessionId))!.historyLength).toBe(4);
    vi.advanceTimersByTime(61_000);
    await pool.sweep();
    await vi.waitFor(async () => expect((await pool.get(sessionId))!.historyLength).toBe(0));
    await pool.chat({ sessionId, prompt: "three" });
    expect(backend.requests.at(-1)!.conversation).toEqual({ conversationId: "c1", turn: 4 });
    await pool.delete(sessionId);
    expect(await store.size()).toBe(0);
  });
});

describe("SessionPool lifecycle", () => {
  it("creates, chats, remembers history, and deletes", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId, initialResponse } = await pool.create({ config: V3(), initialPrompt: "You are a VTuber." });
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(initialResponse).toBe(""); // "system" backends ask nothing at creation
    expect(backend.requests).toHaveLength(0);

    expect(await pool.chat({ sessionId, prompt: "hello" })).toBe("echo: hello");
    expect(await pool.chat({ sessionId, prompt: "again" })).toBe("echo: again");
    const second = backend.requests[1]!;
    expect(second.systemPrompt).toBe("You are a VTuber.");
    expect(second.credential).toBe("sk-test-a");
    expect(second.history.map((m) => [m.role, m.content])).toEqual([
      ["user", "hello"],
      ["assistant", "echo: hello"],
    ]);
    expect((await pool.get(sessionId))?.historyLength).toBe(4);

    await pool.delete(sessionId);
    expect(await pool.get(sessionId)).toBeUndefined();
    expect(await codeOf(pool.chat({ sessionId, prompt: "hi" }))).toBe(ErrorCode.SessionNotFound);
    expect(await codeOf(pool.delete(sessionId))).toBe(ErrorCode.SessionNotFound);
  });

  it("validates its input", async () => {
    const pool = makePool(new ScriptedBackend());
    expect(await codeOf(pool.chat({ sessionId: "", prompt: "hi" }))).toBe(ErrorCode.InvalidArgument);
    expect(await codeOf(pool.chat({ sessionId: "x", prompt: "  " }))).toBe(ErrorCode.InvalidArgument);
    expect(await codeOf(pool.delete(""))).toBe(ErrorCode.InvalidArgument);
    expect(await codeOf(pool.create({ config: "{" }))).toBe(ErrorCode.InvalidArgument);
    expect(await codeOf(pool.chat({ sessionId: "no-such-session", prompt: "hi" }))).toBe(ErrorCode.SessionNotFound);
  });

  it("refuses a session id past the bound before taking its turn or reading the store", async () => {
    const coordinator = new MemoryCoordinator();
    const store = new MemorySessionStore();
    const acquireTurn = vi.spyOn(coordinator, "acquireTurn");
    const get = vi.spyOn(store, "get");
    const remove = vi.spyOn(store, "delete");
    const pool = makePool(new ScriptedBackend(), { store, coordinator });
    const long = "x".repeat(MAX_SESSION_ID_CHARS + 1);
    expect(await codeOf(pool.chat({ sessionId: long, prompt: "hi" }))).toBe(ErrorCode.InvalidArgument);
    expect(await codeOf(pool.delete(long))).toBe(ErrorCode.InvalidArgument);
    expect(await pool.get(long)).toBeUndefined();
    expect(acquireTurn).not.toHaveBeenCalled();
    expect(get).not.toHaveBeenCalled();
    expect(remove).not.toHaveBeenCalled();
    // An unknown id of a normal length is still NOT_FOUND, as before.
    expect(await codeOf(pool.chat({ sessionId: "x".repeat(MAX_SESSION_ID_CHARS), prompt: "hi" }))).toBe(
      ErrorCode.SessionNotFound,
    );
  });

  it("never shows credentials in session info", async () => {
    const pool = makePool(new ScriptedBackend());
    const { sessionId } = await pool.create({ config: V3("sk-test-secret-key-123456") });
    expect(JSON.stringify(await pool.get(sessionId))).not.toContain("sk-test-secret");
    expect(JSON.stringify(await pool.list())).not.toContain("sk-test-secret");
  });

  it("asks the initial prompt of 'ask' backends at creation, bypassing the cooldown, and keeps conversation state", async () => {
    const backend = new ScriptedBackend({ initialPrompt: "ask" });
    const pool = makePool(backend, { cooldown: { accessTokenMs: 75_000 } });
    const { sessionId, initialResponse } = await pool.create({ config: V1(), initialPrompt: "Be a cat." });
    expect(initialResponse).toBe("echo: Be a cat.");
    // The initial prompt neither waited for nor started the cooldown: the first chat goes through.
    expect(await pool.chat({ sessionId, prompt: "meow?" })).toBe("echo: meow?");
    expect(backend.requests[1]!.conversation).toEqual({ conversationId: "c1", turn: 1 });
    expect(backend.requests[1]!.systemPrompt).toBe("");
    expect(await codeOf(pool.chat({ sessionId, prompt: "again" }))).toBe(ErrorCode.Cooldown);
  });

  it("reports a backend failure on the initial prompt as Upstream and stores nothing", async () => {
    const pool = makePool(
      new ScriptedBackend({
        initialPrompt: "ask",
        script: () => {
          throw upstreamDown();
        },
      }),
    );
    expect(await codeOf(pool.create({ config: V1(), initialPrompt: "hi" }))).toBe(ErrorCode.Upstream);
    expect(await pool.size()).toBe(0);
  });

  it("maps an unexpected backend exception to Internal without leaking it", async () => {
    const pool = makePool(
      new ScriptedBackend({
        script: () => {
          throw new TypeError("secret internals at x.js:1");
        },
      }),
      {
        cooldown: { apiKeyMs: 0 },
      },
    );
    const { sessionId } = await pool.create({ config: V3() });
    const error = await rejection(pool.chat({ sessionId, prompt: "hi" }));
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.message).toBe("internal error");
  });

  it("applies the reply filter when the session's filter is on", async () => {
    const backend = new ScriptedBackend({ script: () => "Hi there 😊 :)" });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const filtered = await pool.create({ config: V3() });
    const raw = await pool.create({ config: JSON.stringify({ version: 3, api_key: "sk-test-b", filter: false }) });
    expect(await pool.chat({ sessionId: filtered.sessionId, prompt: "x" })).toBe("Hi there");
    expect(await pool.chat({ sessionId: raw.sessionId, prompt: "x" })).toBe("Hi there 😊 :)");
  });

  it("uses the server default credential through configDefaults", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { configDefaults: { apiKeys: ["sk-test-server"] } });
    const { sessionId } = await pool.create({ config: "" });
    await pool.chat({ sessionId, prompt: "hi" });
    expect(backend.requests[0]!.credential).toBe("sk-test-server");
    expect((await pool.get(sessionId))?.serverCredential).toBe(true);
  });
});

describe("cooldown per credential", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") }));

  it("sessions sharing a key share its budget; different keys never slow each other", async () => {
    const pool = makePool(new ScriptedBackend(), { cooldown: { apiKeyMs: 15_000 } });
    const a1 = (await pool.create({ config: V3("sk-test-a") })).sessionId;
    const a2 = (await pool.create({ config: V3("sk-test-a") })).sessionId;
    const b = (await pool.create({ config: V3("sk-test-b") })).sessionId;

    await pool.chat({ sessionId: a1, prompt: "1" });
    await pool.chat({ sessionId: b, prompt: "2" }); // a different key: not slowed
    const error = await rejection(pool.chat({ sessionId: a2, prompt: "3" }));
    expect(error.code).toBe(ErrorCode.Cooldown);
    expect(error.retryAfterMs).toBe(15_000);
    expect(error.message).toBe("cooling down: try again in 15 s");

    vi.advanceTimersByTime(14_999);
    expect(await codeOf(pool.chat({ sessionId: a2, prompt: "3" }))).toBe(ErrorCode.Cooldown);
    vi.advanceTimersByTime(1);
    expect(await pool.chat({ sessionId: a2, prompt: "3" })).toBe("echo: 3");
  });

  it("uses separate intervals for access tokens and API keys, and 0 disables", async () => {
    const pool = makePool(new ScriptedBackend(), { cooldown: { accessTokenMs: 75_000, apiKeyMs: 0 } });
    const v3 = (await pool.create({ config: V3() })).sessionId;
    const v1 = (await pool.create({ config: V1() })).sessionId;
    for (let i = 0; i < 3; i++) await pool.chat({ sessionId: v3, prompt: `${i}` });
    await pool.chat({ sessionId: v1, prompt: "x" });
    const error = await rejection(pool.chat({ sessionId: v1, prompt: "y" }));
    expect(error.retryAfterSeconds).toBe(75);
  });

  it("a session given several keys uses one that is not cooling down", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { cooldown: { apiKeyMs: 15_000 } });
    const { sessionId } = await pool.create({
      config: JSON.stringify({ version: 3, api_keys: ["sk-test-1", "sk-test-2"] }),
    });
    await pool.chat({ sessionId, prompt: "a" });
    await pool.chat({ sessionId, prompt: "b" });
    expect(backend.requests.map((c) => c.credential)).toEqual(["sk-test-1", "sk-test-2"]);
    expect(await codeOf(pool.chat({ sessionId, prompt: "c" }))).toBe(ErrorCode.Cooldown);
  });
});

describe("concurrency", () => {
  it("serializes two chats on one session so their history never interleaves", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const first = pool.chat({ sessionId, prompt: "first" });
    const second = pool.chat({ sessionId, prompt: "second" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 10));
    expect(backend.requests).toHaveLength(1); // the second waits for the first
    backend.release();
    await expect(first).resolves.toBe("echo: first");
    await vi.waitFor(() => expect(backend.requests).toHaveLength(2));
    // The second saw the first's complete turn.
    expect(backend.requests[1]!.history.map((m) => m.content)).toEqual(["first", "echo: first"]);
    backend.release();
    await expect(second).resolves.toBe("echo: second");
  });

  it("chats on different sessions run in parallel", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const a = (await pool.create({ config: V3("sk-test-a") })).sessionId;
    const b = (await pool.create({ config: V3("sk-test-b") })).sessionId;
    const pa = pool.chat({ sessionId: a, prompt: "a" });
    const pb = pool.chat({ sessionId: b, prompt: "b" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(2));
    backend.release();
    backend.release();
    await expect(Promise.all([pa, pb])).resolves.toEqual(["echo: a", "echo: b"]);
  });

  it("a session deleted while a chat is in flight stays deleted, and the upstream call is aborted", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const store = new MemorySessionStore();
    const pool = makePool(backend, { store, cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const chat = pool.chat({ sessionId, prompt: "slow" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    await pool.delete(sessionId);
    expect(backend.requests[0]!.signal.aborted).toBe(true);
    expect(await codeOf(chat)).toBe(ErrorCode.SessionNotFound);
    expect(await store.get(sessionId)).toBeUndefined();
    expect(await pool.size()).toBe(0);
  });

  it("a session deleted mid-chat stays deleted even when the backend ignores the abort and answers", async () => {
    const backend = new ScriptedBackend({ gate: true, ignoreAbort: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const chat = pool.chat({ sessionId, prompt: "slow" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    await pool.delete(sessionId);
    backend.release(); // the backend completes its reply after all
    expect(await codeOf(chat)).toBe(ErrorCode.SessionNotFound);
    expect(await pool.size()).toBe(0);
    expect(await pool.get(sessionId)).toBeUndefined();
  });

  it("a chat queued behind one on a session that gets deleted fails with SessionNotFound", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const first = pool.chat({ sessionId, prompt: "1" });
    const second = pool.chat({ sessionId, prompt: "2" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    await pool.delete(sessionId);
    expect(await codeOf(first)).toBe(ErrorCode.SessionNotFound);
    expect(await codeOf(second)).toBe(ErrorCode.SessionNotFound);
    expect(backend.requests).toHaveLength(1);
  });

  it("a caller's abort cancels the upstream call and reports Aborted; history is untouched", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const controller = new AbortController();
    const chat = pool.chat({ sessionId, prompt: "slow", signal: controller.signal });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    controller.abort();
    expect(await codeOf(chat)).toBe(ErrorCode.Aborted);
    expect(backend.requests[0]!.signal.aborted).toBe(true);
    expect((await pool.get(sessionId))?.historyLength).toBe(0);
  });

  it("a chat waiting for its turn gives up when its signal aborts, and the chats behind it keep their order", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    const first = pool.chat({ sessionId, prompt: "1" });
    const controller = new AbortController();
    const impatient = pool.chat({ sessionId, prompt: "2", signal: controller.signal });
    const third = pool.chat({ sessionId, prompt: "3" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    controller.abort();
    expect(await codeOf(impatient)).toBe(ErrorCode.Aborted);
    backend.release();
    await expect(first).resolves.toBe("echo: 1");
    await vi.waitFor(() => expect(backend.requests).toHaveLength(2));
    backend.release();
    await expect(third).resolves.toBe("echo: 3");
    expect(backend.requests.map((r) => r.prompt)).toEqual(["1", "3"]);
  });

  it("a reply whose turn was superseded (a stale fencing token) is not saved and fails as Unavailable", async () => {
    class SupersededStore extends MemorySessionStore {
      override async appendTurn(): Promise<"stale"> {
        return "stale";
      }
    }
    const store = new SupersededStore();
    const pool = makePool(new ScriptedBackend(), { store, cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    expect(await codeOf(pool.chat({ sessionId, prompt: "hi" }))).toBe(ErrorCode.Unavailable);
    expect((await pool.get(sessionId))?.historyLength).toBe(0);
  });

  it("concurrent creates never overshoot the limit", async () => {
    const pool = makePool(new ScriptedBackend(), { maxSessions: 3 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => pool.create({ config: V3() })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(await pool.size()).toBe(3);
  });
});

describe("capacity, eviction and renew", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") }));
  const MIN = 60_000;

  it("refuses with TooManySessions when full of active sessions", async () => {
    const pool = makePool(new ScriptedBackend(), { maxSessions: 2, renewIntervalMs: 15 * MIN });
    await pool.create({ config: V3() });
    await pool.create({ config: V3() });
    const error = await rejection(pool.create({ config: V3() }));
    expect(error.code).toBe(ErrorCode.TooManySessions);
    expect(error.message).toContain("limit of 2");
  });

  it("when full, evicts zombies first, the most idle one first, and never an active session", async () => {
    const pool = makePool(new ScriptedBackend(), {
      maxSessions: 3,
      renewIntervalMs: 15 * MIN,
      cooldown: { apiKeyMs: 0 },
    });
    const oldest = (await pool.create({ config: V3() })).sessionId;
    vi.advanceTimersByTime(5 * MIN);
    const older = (await pool.create({ config: V3() })).sessionId;
    vi.advanceTimersByTime(5 * MIN);
    const active = (await pool.create({ config: V3() })).sessionId;
    vi.advanceTimersByTime(22 * MIN); // oldest idle 32 min, older 27 min (zombies: > 30? only oldest), active 22 min
    const created = (await pool.create({ config: V3() })).sessionId;
    expect(await pool.get(oldest)).toBeUndefined();
    expect(await pool.get(older)).toBeDefined();
    expect(await pool.get(active)).toBeDefined();
    // Full again and no zombie left: refused.
    expect(await codeOf(pool.create({ config: V3() }))).toBe(ErrorCode.TooManySessions);
    // Time passes; "older" becomes a zombie and is the one evicted.
    vi.advanceTimersByTime(4 * MIN); // older idle 31 min, active 26 min
    await pool.chat({ sessionId: active, prompt: "still here" });
    await pool.create({ config: V3() });
    expect(await pool.get(older)).toBeUndefined();
    expect(await pool.get(active)).toBeDefined();
    expect(await pool.get(created)).toBeDefined();
  });

  it("evicts the most idle of several zombies first", async () => {
    const pool = makePool(new ScriptedBackend(), {
      maxSessions: 3,
      renewIntervalMs: 15 * MIN,
      cooldown: { apiKeyMs: 0 },
    });
    const a = (await pool.create({ config: V3() })).sessionId;
    vi.advanceTimersByTime(1 * MIN);
    const b = (await pool.create({ config: V3() })).sessionId;
    vi.advanceTimersByTime(1 * MIN);
    const c = (await pool.create({ config: V3() })).sessionId;
    // Created in the order a, b, c but last active in the order b, c, a.
    vi.advanceTimersByTime(1 * MIN);
    await pool.chat({ sessionId: a, prompt: "keep me" });
    vi.advanceTimersByTime(40 * MIN); // all three are zombies now (idle > 30 min)
    await pool.create({ config: V3() });
    expect(await pool.get(b)).toBeUndefined(); // the most idle
    expect(await pool.get(c)).toBeDefined();
    expect(await pool.get(a)).toBeDefined();
    await pool.create({ config: V3() });
    expect(await pool.get(c)).toBeUndefined();
    expect(await pool.get(a)).toBeDefined();
  });

  it("never evicts a session whose chat is in flight, however long it was idle before", async () => {
    const backend = new ScriptedBackend({ gate: true });
    const pool = makePool(backend, { maxSessions: 1, renewIntervalMs: 15 * MIN, cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({ config: V3() });
    vi.advanceTimersByTime(40 * MIN); // idle long enough to be a zombie
    const chat = pool.chat({ sessionId, prompt: "answer slowly" });
    await vi.waitFor(() => expect(backend.requests).toHaveLength(1));
    expect(await codeOf(pool.create({ config: V3() }))).toBe(ErrorCode.TooManySessions);
    expect((await pool.sweep()).evicted).toEqual([]);
    backend.release();
    await expect(chat).resolves.toBe("echo: answer slowly");
  });

  it("a renew that fails leaves the conversation as it was, and the next sweep tries again", async () => {
    let failRenew = false;
    const backend = new ScriptedBackend({
      initialPrompt: "ask",
      script: (req) => {
        if (failRenew && req.prompt === "Be a cat.") throw upstreamDown();
        return `echo: ${req.prompt}`;
      },
    });
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (_o, msg) => void warnings.push(msg ?? ""), error() {} };
    const pool = makePool(backend, { logger, renewIntervalMs: 15 * MIN, cooldown: { accessTokenMs: 0 } });
    const { sessionId } = await pool.create({ config: V1(), initialPrompt: "Be a cat." });
    await pool.chat({ sessionId, prompt: "hi" });
    vi.advanceTimersByTime(16 * MIN);
    failRenew = true;
    expect((await pool.sweep()).renewed).toEqual([sessionId]);
    await vi.waitFor(() => expect(warnings).toContain("renew failed"));
    // The old conversation and history are intact.
    await pool.chat({ sessionId, prompt: "still the same conversation?" });
    expect(backend.requests.at(-1)!.conversation).toEqual({ conversationId: "c1", turn: 2 });
    expect((await pool.get(sessionId))!.historyLength).toBe(4);
    // The next sweep retries, and this time the renew goes through.
    failRenew = false;
    vi.advanceTimersByTime(1 * MIN);
    expect((await pool.sweep()).renewed).toEqual([sessionId]);
    await vi.waitFor(async () => expect((await pool.get(sessionId))!.historyLength).toBe(0));
    expect(backend.requests.at(-1)!.prompt).toBe("Be a cat.");
    expect(backend.requests.at(-1)!.conversation).toBeNull();
  });

  it("the sweep renews conversations older than the interval (system prompt kept) and evicts zombies", async () => {
    const backend = new ScriptedBackend();
    const pool = makePool(backend, { renewIntervalMs: 15 * MIN, cooldown: { apiKeyMs: 0 } });
    const renewed = (await pool.create({ config: V3(), initialPrompt: "persona" })).sessionId;
    const zombie = (await pool.create({ config: V3() })).sessionId;
    await pool.chat({ sessionId: renewed, prompt: "one" });
    await pool.chat({ sessionId: zombie, prompt: "one" });

    vi.advanceTimersByTime(10 * MIN);
    await pool.chat({ sessionId: renewed, prompt: "two" }); // active, but the conversation is 10 min old
    expect((await pool.sweep()).renewed).toEqual([]);

    vi.advanceTimersByTime(6 * MIN); // conversations 16 min old; zombie idle 16 min
    const first = await pool.sweep();
    expect(first.renewed.sort()).toEqual([renewed, zombie].sort());
    await vi.waitFor(async () => expect((await pool.get(renewed))?.historyLength).toBe(0));
    await pool.chat({ sessionId: renewed, prompt: "three" });
    const last = backend.requests.at(-1)!;
    expect(last.systemPrompt).toBe("persona");
    expect(last.history).toEqual([]);

    vi.advanceTimersByTime(15 * MIN); // zombie idle 31 min > 2 × 15
    const second = await pool.sweep();
    expect(second.evicted).toEqual([zombie]);
    expect(await pool.get(zombie)).toBeUndefined();
    expect(await pool.get(renewed)).toBeDefined();
  });

  it("renewing an 'ask' session starts a new conversation and asks the initial prompt again", async () => {
    const backend = new ScriptedBackend({ initialPrompt: "ask" });
    const pool = makePool(backend, { renewIntervalMs: 15 * MIN, cooldown: { accessTokenMs: 0 } });
    const { sessionId } = await pool.create({ config: V1(), initialPrompt: "Be a cat." });
    await pool.chat({ sessionId, prompt: "hi" });
    vi.advanceTimersByTime(16 * MIN);
    await pool.chat({ sessionId, prompt: "keep alive" });
    await pool.sweep();
    await vi.waitFor(() => expect(backend.requests).toHaveLength(4));
    const renewal = backend.requests[3]!;
    expect(renewal.prompt).toBe("Be a cat.");
    expect(renewal.conversation).toBeNull();
    await pool.chat({ sessionId, prompt: "after" });
    expect(backend.requests[4]!.conversation).toEqual({ conversationId: "c1", turn: 4 });
  });

  it("the sweep survives a session that throws, and the background timer keeps running", async () => {
    // A store that cannot delete one record (a failing disk, a corrupt entry).
    class FlakyStore extends MemorySessionStore {
      broken = "";
      override async delete(id: string): Promise<boolean> {
        if (id === this.broken) throw new Error("disk full");
        return super.delete(id);
      }
    }
    const store = new FlakyStore();
    const errors: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_o, msg) => void errors.push(msg ?? "") };
    const pool = makePool(new ScriptedBackend(), {
      store,
      logger,
      renewIntervalMs: 15 * MIN,
      sweepIntervalMs: MIN,
      cooldown: { apiKeyMs: 0 },
    });
    const bad = (await pool.create({ config: V3("sk-test-broken") })).sessionId;
    store.broken = bad;
    vi.advanceTimersByTime(20 * MIN);
    const good = (await pool.create({ config: V3("sk-test-good") })).sessionId;
    await pool.chat({ sessionId: good, prompt: "x" });

    // By 36 min the bad session is a zombie whose eviction throws; the good one is due for renewal.
    // The background sweep (every minute) meets both.
    vi.advanceTimersByTime(16 * MIN);
    await vi.waitFor(() => expect(errors).toContain("sweep failed for a session"));
    await vi.waitFor(async () => expect((await pool.get(good))?.historyLength).toBe(0)); // renewed despite the other

    // The background timer keeps sweeping: the next tick fails on the bad session again.
    const count = errors.length;
    vi.advanceTimersByTime(MIN);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(count));
    expect(await pool.get(bad)).toBeDefined();
  });

  it("the sweep timer is unref'd, so it never keeps the process alive", () => {
    const spy = vi.spyOn(globalThis, "setInterval");
    makePool(new ScriptedBackend(), { sweepIntervalMs: MIN });
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
  });

  it("the sweep timer is stopped by close()", async () => {
    vi.useRealTimers();
    const pool = new SessionPool({ backends: () => new ScriptedBackend(), sweepIntervalMs: 10 });
    const sweep = vi.spyOn(pool, "sweep");
    await new Promise((r) => setTimeout(r, 50));
    expect(sweep.mock.calls.length).toBeGreaterThan(0);
    await pool.close();
    const after = sweep.mock.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(sweep.mock.calls.length).toBe(after);
    expect(await codeOf(pool.create({ config: V3() }))).toBe(ErrorCode.Unavailable);
  });
});

describe("history budget", () => {
  it("counts the backend's default system prompt when the session has none", async () => {
    const persona = "You are a cheerful VTuber who loves her viewers. ".repeat(6); // about 60 tokens
    const backend = new ScriptedBackend({ script: () => "ok", defaultSystemPrompt: persona });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const config = JSON.stringify({ version: 3, api_key: "sk-test-a", max_tokens: 120 });
    const withPersona = (await pool.create({ config })).sessionId;
    const withOwn = (await pool.create({ config, initialPrompt: "hi" })).sessionId;
    for (let i = 0; i < 8; i++) {
      await pool.chat({ sessionId: withPersona, prompt: `turn ${i}` });
      await pool.chat({ sessionId: withOwn, prompt: `turn ${i}` });
    }
    const [personaCall, ownCall] = backend.requests.slice(-2);
    expect(personaCall!.systemPrompt).toBe(""); // the backend substitutes its persona
    // The persona's ~60 tokens leave room for fewer turns than a two-letter prompt does.
    expect(personaCall!.history.length).toBeLessThan(ownCall!.history.length);
    expect(personaCall!.history.length).toBeGreaterThan(0);
  });

  it("trims the oldest turns so system + history + prompt fit max_tokens", async () => {
    const backend = new ScriptedBackend({ script: () => "ok" });
    const pool = makePool(backend, { cooldown: { apiKeyMs: 0 } });
    const { sessionId } = await pool.create({
      config: JSON.stringify({ version: 3, api_key: "sk-test-a", max_tokens: 60 }),
      initialPrompt: "short",
    });
    // Each turn costs a few tokens of content plus 4 per message.
    for (let i = 0; i < 10; i++) await pool.chat({ sessionId, prompt: `turn ${i}` });
    const last = backend.requests.at(-1)!;
    expect(last.history.length).toBeGreaterThan(0);
    expect(last.history.length).toBeLessThan(18);
    expect(last.history.length % 2).toBe(0);
    expect(last.history[0]!.role).toBe("user");
    // The newest turns are the ones kept.
    expect(last.history.at(-2)!.content).toBe("turn 8");
    const info = (await pool.get(sessionId))!;
    expect(info.historyTokens).toBeLessThanOrEqual(60);
  });
});
