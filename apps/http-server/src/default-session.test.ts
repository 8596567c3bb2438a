import { ChatbotError, ErrorCode, MemoryCoordinator, MemorySessionStore, SessionPool } from "@chatgptchatbot/core";
import { deferred, recordingLogger, ScriptedBackend, untilAborted } from "@chatgptchatbot/testkit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { DefaultSession, type DefaultSessionMemory, type DefaultSessionSnapshot } from "./default-session.js";
import { httpStatus } from "./error-status.js";

const SERVER_KEY = "sk-test-server-default-key-0001";
const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function setup({ apiKeys = [SERVER_KEY], maxSessions = 10 }: { apiKeys?: string[]; maxSessions?: number } = {}) {
  const backend = new ScriptedBackend();
  const logger = recordingLogger();
  const pool = new SessionPool({
    backends: () => backend,
    sweepIntervalMs: 0,
    maxSessions,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
    configDefaults: { apiKeys },
  });
  pools.push(pool);
  return { pool, backend, logger, session: new DefaultSession({ pool, logger }) };
}

describe("DefaultSession", () => {
  it("creates no session until the first ask", async () => {
    const { pool, session } = setup();
    expect(session.sessionId).toBeUndefined();
    expect(session.renewed).toBe(false);
    expect(await pool.size()).toBe(0);
    await session.ask({ prompt: "hi" });
    expect(session.sessionId).toBeDefined();
    expect(await pool.size()).toBe(1);
  });

  it("creates one session for concurrent first asks", async () => {
    const { pool, session, backend } = setup();
    const replies = await Promise.all(["a", "b", "c"].map((prompt) => session.ask({ prompt })));
    expect(replies).toEqual(["echo: a", "echo: b", "echo: c"]);
    expect(await pool.size()).toBe(1);
    expect(new Set(backend.requests.map((r) => r.history.length))).toEqual(new Set([0, 2, 4]));
  });

  it("answers a 503 Upstream error naming /renew when there is no credential, and does not cache it", async () => {
    const { session } = setup({ apiKeys: [] });
    const error = await session.ask({ prompt: "hi" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatbotError);
    expect(httpStatus(error as ChatbotError)).toBe(503);
    expect((error as ChatbotError).message).toMatch(/POST \/renew/);
    await session.renew({ version: 3, credential: "sk-test-renewed-key-0002" });
    expect(await session.ask({ prompt: "hi" })).toBe("echo: hi");
  });

  it("tries again to create the session after a failed creation", async () => {
    const { pool, session } = setup({ maxSessions: 1 });
    const other = await pool.create({ config: JSON.stringify({ version: 3, api_key: "sk-test-someone-else-0004" }) });
    await expect(session.ask({ prompt: "hi" })).rejects.toMatchObject({ code: ErrorCode.TooManySessions });
    await pool.delete(other.sessionId);
    expect(await session.ask({ prompt: "hi" })).toBe("echo: hi");
  });

  it("runs concurrent renews in order: the last one called wins and no session leaks", async () => {
    const { pool, session, backend } = setup();
    await session.ask({ prompt: "hi" });
    await Promise.all([
      session.renew({ version: 1, credential: "eyJ-test-token-one-0001" }),
      session.renew({ version: 1, credential: "eyJ-test-token-two-0002" }),
      session.renew({ version: 3, credential: "sk-test-key-three-0003" }),
    ]);
    expect(session.renewed).toBe(true);
    await session.ask({ prompt: "after" });
    expect(backend.requests.at(-1)?.credential).toBe("sk-test-key-three-0003");
    expect(await pool.size()).toBe(1);
  });

  it("deletes a session an ask created while a renew was running", async () => {
    const { pool, session, backend } = setup();
    const realCreate = pool.create.bind(pool);
    const entered = deferred();
    const gate = deferred();
    pool.create = async (input) => {
      if (typeof input.config !== "string") {
        entered.resolve(); // the renew's create (a parsed config) waits here
        await gate.promise;
      }
      return realCreate(input);
    };
    const renewing = session.renew({ version: 1, credential: "eyJ-test-token-one-0001" });
    await entered.promise;
    // Meanwhile an ask lazily creates a server-credential session.
    expect(await session.ask({ prompt: "hi" })).toBe("echo: hi");
    expect(backend.requests.at(-1)?.credential).toBe(SERVER_KEY);
    gate.resolve();
    await renewing;
    expect(await pool.size()).toBe(1);
    await session.ask({ prompt: "again" });
    expect(backend.requests.at(-1)?.credential).toBe("eyJ-test-token-one-0001");
  });

  it("retries a vanished session only once", async () => {
    const { pool, session, backend } = setup();
    backend.script = async () => {
      await pool.delete(session.sessionId!); // the session vanishes under every ask
      return "never";
    };
    await expect(session.ask({ prompt: "hi" })).rejects.toMatchObject({ code: ErrorCode.SessionNotFound });
    expect(backend.requests).toHaveLength(2);
  });

  it("does not retry an ask its caller aborted", async () => {
    const { session, backend } = setup();
    const client = new AbortController();
    backend.script = (request) => {
      queueMicrotask(() => client.abort());
      return untilAborted(request);
    };
    await expect(session.ask({ prompt: "hi", signal: client.signal })).rejects.toMatchObject({
      code: ErrorCode.Aborted,
    });
    expect(backend.requests).toHaveLength(1);
  });

  it("rejects a bad credential before touching the current session", async () => {
    const { session } = setup();
    await session.ask({ prompt: "hi" });
    const before = session.sessionId;
    await expect(session.renew({ version: 1, credential: "has spaces in it" })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(session.sessionId).toBe(before);
    expect(session.renewed).toBe(false);
  });

  it("keeps the old credential when the pool stays full after giving up its slot", async () => {
    const { pool, session, backend } = setup({ maxSessions: 1 });
    await session.ask({ prompt: "hi" });
    // Someone takes the freed slot before the renewed session is created.
    const realCreate = pool.create.bind(pool);
    let calls = 0;
    pool.create = async (input) => {
      calls++;
      if (calls === 2)
        await realCreate({ config: JSON.stringify({ version: 3, api_key: "sk-test-someone-else-0004" }) });
      return realCreate(input);
    };
    await expect(session.renew({ version: 3, credential: "sk-test-renewed-key-0002" })).rejects.toMatchObject({
      code: ErrorCode.TooManySessions,
    });
    expect(session.renewed).toBe(false);
    pool.create = realCreate;
    const others = await pool.list();
    await pool.delete(others[0]!.id);
    expect(await session.ask({ prompt: "again" })).toBe("echo: again");
    expect(backend.requests.at(-1)?.credential).toBe(SERVER_KEY);
  });
});

describe("DefaultSession with a memory (across a restart)", () => {
  /** A store and a memory that outlive the pool, as the program's SQLite file outlives the process. */
  function durable() {
    const store = new MemorySessionStore();
    const saved: DefaultSessionSnapshot[] = [];
    const memory: DefaultSessionMemory = {
      load: async () => saved.at(-1),
      save: async (snapshot) => void saved.push(snapshot),
      // As a shared store does it: one atomic compare-and-set (a yield first, so racing callers interleave).
      claim: async ({ snapshot, replacing }) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (saved.at(-1)?.sessionId !== replacing) return saved.at(-1)!;
        saved.push(snapshot);
        return snapshot;
      },
    };
    const backend = new ScriptedBackend();
    // Replicas that share a store share its coordination too (as on one Redis): a session's turns are taken in
    // order across them and their fencing tokens come from one counter. With a coordinator each, two replicas'
    // racing turns in one session may lose one ("try again"), which made the race below flaky under load.
    const coordinator = new MemoryCoordinator();
    const start = (): DefaultSession => {
      const pool = new SessionPool({
        backends: () => backend,
        store,
        coordinator,
        sweepIntervalMs: 0,
        cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
        configDefaults: { apiKeys: [SERVER_KEY] },
      });
      pools.push(pool);
      return new DefaultSession({ pool, memory, logger: recordingLogger() });
    };
    return { start, saved, backend, store };
  }

  it("goes on in the same session, with the renewed credential and its history, after a restart", async () => {
    const { start, saved, backend, store } = durable();
    const before = start();
    await before.renew({ version: 3, credential: "sk-test-renewed-key-0005" });
    expect(await before.ask({ prompt: "one" })).toBe("echo: one");
    expect(saved.at(-1)).toEqual({
      sessionId: before.sessionId,
      config: expect.stringContaining("sk-test-renewed-key-0005"),
    });

    const after = start();
    expect(await after.ask({ prompt: "two" })).toBe("echo: two");
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.renewed).toBe(true);
    expect(backend.requests.at(-1)?.credential).toBe("sk-test-renewed-key-0005");
    expect(backend.requests.at(-1)?.history.map((m) => m.content)).toEqual(["one", "echo: one"]);
    expect(await store.size()).toBe(1);
  });

  it("remembers a session created from the server's default credential", async () => {
    const { start, saved } = durable();
    const before = start();
    await before.ask({ prompt: "one" });
    expect(saved).toEqual([{ sessionId: before.sessionId, config: "" }]);
    const after = start();
    await after.ask({ prompt: "two" });
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.renewed).toBe(false);
  });

  it("recreates the session from the remembered credential when the stored session is gone", async () => {
    const { start, backend, store } = durable();
    const before = start();
    await before.renew({ version: 3, credential: "sk-test-renewed-key-0006" });
    await before.ask({ prompt: "one" });
    await store.delete(before.sessionId!);
    const after = start();
    expect(await after.ask({ prompt: "two" })).toBe("echo: two");
    expect(after.sessionId).not.toBe(before.sessionId);
    expect(backend.requests.at(-1)?.credential).toBe("sk-test-renewed-key-0006");
  });

  it("replicas sharing the memory and the store: a renew on one is taken up by the other at its next ask", async () => {
    const { start, backend, saved } = durable();
    const a = start();
    const b = start();
    await a.ask({ prompt: "one" });
    expect(await b.ask({ prompt: "two" })).toBe("echo: two");
    expect(b.sessionId).toBe(a.sessionId);

    await a.renew({ version: 3, credential: "sk-test-renewed-key-0007" }); // deletes the session b holds
    expect(await b.ask({ prompt: "three" })).toBe("echo: three");
    expect(b.sessionId).toBe(a.sessionId);
    expect(b.renewed).toBe(true);
    expect(backend.requests.at(-1)?.credential).toBe("sk-test-renewed-key-0007");
    expect(saved.at(-1)?.sessionId).toBe(a.sessionId);
  });

  it("a session that is gone is not taken back from the memory: the next ask creates one with its credential", async () => {
    const { start, backend, store, saved } = durable();
    const a = start();
    await a.renew({ version: 3, credential: "sk-test-renewed-key-0008" });
    await a.ask({ prompt: "one" });
    const gone = a.sessionId!;
    await store.delete(gone); // evicted, say: the memory still names it
    expect(await a.ask({ prompt: "two" })).toBe("echo: two");
    expect(a.sessionId).not.toBe(gone);
    expect(backend.requests.at(-1)?.credential).toBe("sk-test-renewed-key-0008");
    expect(saved.at(-1)?.sessionId).toBe(a.sessionId);
  });

  it("with claim: replicas whose first asks race agree on one session; the other one is deleted", async () => {
    const { start, store, backend } = durable();
    const a = start();
    const b = start();
    // Both find the memory empty and create at once; the claim settles which session they keep.
    const [one, two] = await Promise.all([a.ask({ prompt: "from A" }), b.ask({ prompt: "from B" })]);
    expect([one, two]).toEqual(["echo: from A", "echo: from B"]);
    expect(a.sessionId).toBeDefined();
    expect(b.sessionId).toBe(a.sessionId);
    expect(await store.size()).toBe(1);
    expect(await a.ask({ prompt: "again" })).toBe("echo: again");
    expect(backend.requests.at(-1)?.history.map((m) => m.content)).toContain("from A");
  });

  it("with claim: after the session is gone, two replicas recreating it agree on one new session", async () => {
    const { start, store } = durable();
    const a = start();
    const b = start();
    await a.ask({ prompt: "one" });
    await b.ask({ prompt: "two" });
    const gone = a.sessionId!;
    await store.delete(gone);
    await Promise.all([a.ask({ prompt: "three" }), b.ask({ prompt: "four" })]);
    expect(a.sessionId).not.toBe(gone);
    expect(b.sessionId).toBe(a.sessionId);
    expect(await store.size()).toBe(1);
  });

  it("serves without the memory when it cannot be read or written", async () => {
    const backend = new ScriptedBackend();
    const pool = new SessionPool({
      backends: () => backend,
      sweepIntervalMs: 0,
      cooldown: { apiKeyMs: 0 },
      configDefaults: { apiKeys: [SERVER_KEY] },
    });
    pools.push(pool);
    const logger = recordingLogger();
    const broken: DefaultSessionMemory = {
      load: async () => Promise.reject(new Error("disk gone")),
      save: async () => Promise.reject(new Error("disk gone")),
    };
    const session = new DefaultSession({ pool, memory: broken, logger });
    expect(await session.ask({ prompt: "hi" })).toBe("echo: hi");
    expect(logger.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(["the default session could not be restored", "the default session could not be saved"]),
    );
  });
});
