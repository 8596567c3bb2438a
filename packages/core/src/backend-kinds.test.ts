import { describe, expect, it } from "vitest";
import type { AskRequest, Backend } from "./backend.js";
import { BackendKindRegistry, type BackendKindSpec, BUILTIN_BACKEND_KINDS, cooldownFor } from "./backend-kinds.js";
import { ChatbotError, ErrorCode } from "./errors.js";
import { parseSessionConfig } from "./session-config.js";
import { SessionPool } from "./session-pool.js";

/** A third kind, registered the way a new backend would be: only the registry learns of it. */
const LOCAL: BackendKindSpec = {
  kind: "local-model",
  version: 7,
  credentialLabel: "local key",
  credentialField: "api_key",
  filterByDefault: false,
  defaultCooldownMs: 5_000,
};
const WITH_LOCAL = BUILTIN_BACKEND_KINDS.with(LOCAL);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.InvalidArgument);
    return (error as ChatbotError).message;
  }
  throw new Error("expected a refusal");
}

describe("backend kinds", () => {
  it("map the old version numbers to kinds once, at parse time", () => {
    expect(parseSessionConfig('{"version": 3, "api_key": "sk-test-a"}').kind).toBe("api-key");
    expect(parseSessionConfig('{"version": 1, "access_token": "tok-test-a"}').kind).toBe("access-token");
  });

  it("give each built-in kind its default cooldown, overridable by its README name or by kind", () => {
    const apiKey = BUILTIN_BACKEND_KINDS.get("api-key");
    const token = BUILTIN_BACKEND_KINDS.get("access-token");
    expect([cooldownFor(apiKey), cooldownFor(token)]).toEqual([15_000, 75_000]);
    expect(cooldownFor(apiKey, { apiKeyMs: 0 })).toBe(0);
    expect(cooldownFor(token, { accessTokenMs: 1 })).toBe(1);
    expect(cooldownFor(token, { accessTokenMs: 1, byKind: { "access-token": 2 } })).toBe(2);
  });

  it("refuse a registry that names a kind or a version twice", () => {
    expect(() => WITH_LOCAL.with({ ...LOCAL, version: 8 })).toThrow(/registered twice/);
    expect(() => WITH_LOCAL.with({ ...LOCAL, kind: "other", version: 3 })).toThrow(/two backend kinds/);
  });

  it("a third kind needs only a registry entry: parsed, defaulted, cooled down and routed by kind", async () => {
    // The parser names it in its messages and maps its version.
    expect(refusal(() => parseSessionConfig('{"version": 9, "api_key": "x"}', { kinds: WITH_LOCAL }))).toMatch(
      /use 1 \(access token\), 3 \(API key\) or 7 \(local key\)$/,
    );
    expect(refusal(() => parseSessionConfig('{"api_key": "x"}', { kinds: WITH_LOCAL }))).toMatch(
      /no version \(1 = access token, 3 = API key, 7 = local key\)$/,
    );
    expect(refusal(() => parseSessionConfig('{"version": 7}', { kinds: WITH_LOCAL }))).toMatch(
      /config has no api_key$/,
    );
    const own = parseSessionConfig('{"version": 7, "api_key": "lk-test-1"}', { kinds: WITH_LOCAL });
    expect(own).toMatchObject({ kind: "local-model", version: 7, filter: false, credentials: ["lk-test-1"] });
    // Its server default credentials are keyed by kind.
    const defaults = { kinds: WITH_LOCAL, credentials: { "local-model": ["lk-test-server"] } };
    expect(parseSessionConfig('{"version": 7}', defaults)).toMatchObject({
      credentials: ["lk-test-server"],
      serverCredential: true,
    });
    expect(parseSessionConfig("", defaults).kind).toBe("local-model");

    // The pool routes by kind and cools the kind's credentials down by its own interval.
    const asked: AskRequest[] = [];
    const local: Backend = {
      initialPrompt: "system",
      async *ask(request) {
        asked.push(request);
        yield { type: "text", text: `local: ${request.prompt}` };
        yield { type: "finish" };
      },
    };
    const other: Backend = {
      initialPrompt: "system",
      async *ask() {
        yield { type: "text", text: "wrong backend" };
        yield { type: "finish" };
      },
    };
    let now = 1_000_000;
    const pool = new SessionPool({
      backends: (config) => (config.kind === "local-model" ? local : other),
      kinds: WITH_LOCAL,
      configDefaults: { credentials: { "local-model": ["lk-test-server"] } },
      sweepIntervalMs: 0,
      now: () => now,
    });
    const { sessionId } = await pool.create({ config: '{"version": 7}' });
    expect(await pool.chat({ sessionId, prompt: "hi" })).toBe("local: hi");
    expect(asked[0]!.credential).toBe("lk-test-server");
    const cooling = await pool.chat({ sessionId, prompt: "again" }).catch((error: unknown) => error);
    expect(cooling).toBeInstanceOf(ChatbotError);
    expect((cooling as ChatbotError).code).toBe(ErrorCode.Cooldown);
    expect((cooling as ChatbotError).retryAfterMs).toBe(5_000);
    now += 5_000;
    expect(await pool.chat({ sessionId, prompt: "later" })).toBe("local: later");
    await pool.close();
  });

  it("a registry needs at least one kind", () => {
    expect(() => new BackendKindRegistry([])).toThrow(RangeError);
  });
});
