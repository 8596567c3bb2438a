import { randomUUID } from "node:crypto";
import { type Backend, type BackendResolver, collectReply, type ConversationState } from "./backend.js";
import type { ServerConfig } from "./config.js";
import { Cooldown } from "./cooldown.js";
import { ChatbotError } from "./errors.js";
import { fitHistory, type HistoryEntry } from "./history.js";
import { type Logger, shortId, silentLogger } from "./logger.js";
import { filterReply } from "./reply-filter.js";
import { checkPromptLength, DEFAULT_MAX_INITIAL_PROMPT_CHARS, DEFAULT_MAX_PROMPT_CHARS } from "./prompt-limits.js";
import { parseSessionConfig, type SessionConfig, type SessionConfigDefaults } from "./session-config.js";
import { MemorySessionStore, type SessionRecord, type SessionStore } from "./session-store.js";
import { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from "./token-counter.js";

export const DEFAULT_MAX_SESSIONS = 10;
export const DEFAULT_RENEW_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
export const DEFAULT_ACCESS_TOKEN_COOLDOWN_MS = 75_000;
export const DEFAULT_API_KEY_COOLDOWN_MS = 15_000;
/** Tokens the API adds to prime the assistant's reply. */
const REPLY_PRIMING_TOKENS = 3;

export interface SessionPoolOptions {
  /** Picks the backend for a session's config. */
  readonly backends: BackendResolver;
  /** Where sessions live (default: in memory). */
  readonly store?: SessionStore;
  /** At most this many sessions (default 10). */
  readonly maxSessions?: number;
  /**
   * A conversation older than this is reset, its system prompt kept (default
   * 15 min); 0 disables renewing.
   */
  readonly renewIntervalMs?: number;
  /** A session idle longer than this is a zombie and may be evicted (default twice the renew interval; 0: never). */
  readonly zombieAfterMs?: number;
  /** How often the background sweep renews and evicts (default 60 s); 0: no background sweep. */
  readonly sweepIntervalMs?: number;
  /** Minimum interval between two upstream requests per credential, by kind (0 disables). */
  readonly cooldown?: { readonly accessTokenMs?: number; readonly apiKeyMs?: number };
  /** Server defaults for reading session configs (default credentials, budget, base URL allowlist). */
  readonly configDefaults?: SessionConfigDefaults;
  /** Largest prompt and initial prompt in characters (defaults 4,000 and 10,000), checked before any work. */
  readonly limits?: { readonly promptChars?: number; readonly initialPromptChars?: number };
  readonly logger?: Logger;
  /** The clock (epoch ms); tests may replace it. */
  readonly now?: () => number;
}

export interface CreateSessionInput {
  /** The config: NewSession's JSON string, or an already validated config. */
  readonly config: string | SessionConfig;
  readonly initialPrompt?: string;
  readonly signal?: AbortSignal;
}

export interface ChatInput {
  readonly sessionId: string;
  readonly prompt: string;
  readonly signal?: AbortSignal;
}

/** What may be shown of a session: never its credentials. */
export interface SessionInfo {
  readonly id: string;
  readonly version: SessionConfig["version"];
  readonly model: string | undefined;
  readonly baseUrl: string | undefined;
  readonly serverCredential: boolean;
  readonly createdAt: number;
  readonly conversationStartedAt: number;
  readonly lastActiveAt: number;
  /** Messages in the stored history. */
  readonly historyLength: number;
  readonly historyTokens: number;
}

export interface SweepReport {
  readonly renewed: string[];
  readonly evicted: string[];
  readonly failed: string[];
}

/**
 * The pool options a server configuration implies (limits, intervals,
 * cooldowns, default credentials, budget, allowlist); add `backends`.
 */
export function poolOptionsFromConfig(config: ServerConfig): Omit<SessionPoolOptions, "backends"> {
  return {
    maxSessions: config.maxSessions,
    renewIntervalMs: config.renewIntervalMs,
    sweepIntervalMs: config.sweepIntervalMs,
    limits: { promptChars: config.maxPromptChars, initialPromptChars: config.maxInitialPromptChars },
    cooldown: { accessTokenMs: config.accessTokenCooldownMs, apiKeyMs: config.apiKeyCooldownMs },
    configDefaults: {
      apiKeys: config.defaultApiKeys,
      accessTokens: config.defaultAccessTokens,
      maxTokens: config.maxTokens,
      allowedUpstreamHosts: config.allowedUpstreamHosts,
    },
  };
}

/** Per-process state of one session: its queue and in-flight request. */
interface Runtime {
  /** Settles when the last queued operation on the session has finished. */
  tail: Promise<unknown>;
  /** Queued or running operations; the runtime is dropped at 0. */
  pending: number;
  /** Aborts the in-flight upstream request (on delete). */
  inflight: AbortController | undefined;
  deleted: boolean;
}

/**
 * Holds chat sessions: creates them, serializes each session's chats,
 * enforces the per-credential cooldown and the history budget, renews old
 * conversations and evicts idle sessions when full.
 */
export class SessionPool {
  readonly #backends: BackendResolver;
  readonly #store: SessionStore;
  readonly #maxSessions: number;
  readonly #renewMs: number;
  readonly #zombieMs: number;
  readonly #cooldownMs: { readonly 1: number; readonly 3: number };
  readonly #configDefaults: SessionConfigDefaults;
  readonly #limits: { readonly promptChars: number; readonly initialPromptChars: number };
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #cooldown: Cooldown;
  readonly #runtimes = new Map<string, Runtime>();
  readonly #background = new Set<Promise<unknown>>();
  #reserved = 0;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #closed = false;

  constructor(options: SessionPoolOptions) {
    this.#backends = options.backends;
    this.#store = options.store ?? new MemorySessionStore();
    this.#maxSessions = nonNegative("maxSessions", options.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.#renewMs = nonNegative("renewIntervalMs", options.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS);
    this.#zombieMs = nonNegative("zombieAfterMs", options.zombieAfterMs ?? 2 * this.#renewMs);
    this.#cooldownMs = {
      1: nonNegative("cooldown.accessTokenMs", options.cooldown?.accessTokenMs ?? DEFAULT_ACCESS_TOKEN_COOLDOWN_MS),
      3: nonNegative("cooldown.apiKeyMs", options.cooldown?.apiKeyMs ?? DEFAULT_API_KEY_COOLDOWN_MS),
    };
    this.#configDefaults = options.configDefaults ?? {};
    this.#limits = {
      promptChars: options.limits?.promptChars ?? DEFAULT_MAX_PROMPT_CHARS,
      initialPromptChars: options.limits?.initialPromptChars ?? DEFAULT_MAX_INITIAL_PROMPT_CHARS,
    };
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? (() => Date.now());
    this.#cooldown = new Cooldown({ now: this.#now });
    const sweepMs = nonNegative("sweepIntervalMs", options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    if (sweepMs > 0) {
      this.#sweepTimer = setInterval(() => void this.sweep(), sweepMs);
      this.#sweepTimer.unref();
    }
  }

  /** Validates a NewSession config against this pool's server defaults. */
  parseConfig(raw: string): SessionConfig {
    return parseSessionConfig(raw, this.#configDefaults);
  }

  /** Throws InvalidArgument for a prompt over the limit: callers may check before they do any work. */
  checkPrompt(prompt: string): void {
    checkPromptLength({ field: "prompt", text: prompt, maxChars: this.#limits.promptChars });
  }

  /**
   * Creates a session. For "ask" backends the initial prompt is sent now
   * (bypassing the cooldown) and its reply returned.
   *
   * @throws InvalidArgument (bad config), TooManySessions, Upstream.
   */
  async create({ config, initialPrompt = "", signal }: CreateSessionInput): Promise<{
    sessionId: string;
    initialResponse: string;
  }> {
    this.#assertOpen();
    checkPromptLength({ field: "initial_prompt", text: initialPrompt, maxChars: this.#limits.initialPromptChars });
    const parsed = typeof config === "string" ? this.parseConfig(config) : config;
    const backend = this.#backends(parsed);
    await this.#reserveSlot();
    try {
      const now = this.#now();
      const count = await loadTokenCounter(parsed.model);
      const systemPrompt =
        backend.initialPrompt === "system" ? initialPrompt.trim() || (backend.defaultSystemPrompt ?? "") : "";
      const record: SessionRecord = {
        id: randomUUID(),
        config: parsed,
        initialPrompt,
        initialResponse: "",
        systemTokens: systemPrompt === "" ? 0 : count(systemPrompt) + MESSAGE_OVERHEAD_TOKENS,
        history: [],
        conversation: null,
        createdAt: now,
        conversationStartedAt: now,
        lastActiveAt: now,
      };
      if (backend.initialPrompt === "ask" && initialPrompt.trim() !== "") {
        const asked = await this.#askInitialPrompt(record, backend, signal ?? new AbortController().signal);
        record.initialResponse = asked.initialResponse;
        record.conversation = asked.conversation;
      }
      await this.#store.set(record);
      this.#log.info(
        { session: shortId(record.id), version: parsed.version, model: parsed.model },
        "session created",
      );
      return { sessionId: record.id, initialResponse: record.initialResponse };
    } finally {
      this.#reserved--;
    }
  }

  /**
   * Sends one prompt in a session and returns the whole reply (filtered when
   * the session's filter is on). Chats on one session run one at a time.
   *
   * @throws InvalidArgument, SessionNotFound, Cooldown, Upstream, Aborted.
   */
  async chat({ sessionId, prompt, signal }: ChatInput): Promise<string> {
    this.#assertOpen();
    if (sessionId === "") throw ChatbotError.invalidArgument("session_id is required");
    this.checkPrompt(prompt);
    if (prompt.trim() === "") throw ChatbotError.invalidArgument("prompt is required");
    signal?.throwIfAborted();
    return this.#enqueue(sessionId, async (runtime) => {
      const record = await this.#store.get(sessionId);
      if (record === undefined || runtime.deleted) throw ChatbotError.sessionNotFound(sessionId);
      const { config } = record;
      const backend = this.#backends(config);

      const taken = this.#cooldown.acquire(config.credentials, this.#cooldownMs[config.version]);
      if (!taken.ok) throw ChatbotError.cooldown(taken.retryAfterMs);

      const count = await loadTokenCounter(config.model);
      const promptTokens = count(prompt) + MESSAGE_OVERHEAD_TOKENS;
      const start = fitHistory(record.history, record.systemTokens + promptTokens + REPLY_PRIMING_TOKENS, config.maxTokens);
      // What no longer fits will never be sent again: drop it from the session.
      if (start > 0) record.history = record.history.slice(start);

      const controller = new AbortController();
      const onAbort = (): void => controller.abort(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      runtime.inflight = controller;
      let reply: string;
      let conversation = record.conversation;
      try {
        const { text, result } = await collectReply(
          backend.ask({
            prompt,
            systemPrompt: backend.initialPrompt === "system" ? record.initialPrompt : "",
            history: record.history,
            conversation: record.conversation,
            credential: taken.credential,
            config,
            signal: controller.signal,
          }),
        );
        reply = text;
        if (result.conversation !== undefined) conversation = result.conversation;
      } catch (error) {
        if (runtime.deleted) throw ChatbotError.sessionNotFound(sessionId);
        if (signal?.aborted) throw ChatbotError.aborted(undefined, error);
        throw ChatbotError.from(error);
      } finally {
        signal?.removeEventListener("abort", onAbort);
        runtime.inflight = undefined;
      }

      // A session deleted while its chat was in flight stays deleted.
      if (runtime.deleted) throw ChatbotError.sessionNotFound(sessionId);
      const user: HistoryEntry = { role: "user", content: prompt, tokens: promptTokens };
      const assistant: HistoryEntry = {
        role: "assistant",
        content: reply,
        tokens: count(reply) + MESSAGE_OVERHEAD_TOKENS,
      };
      record.history.push(user, assistant);
      record.conversation = conversation;
      record.lastActiveAt = this.#now();
      await this.#store.set(record);
      return config.filter ? filterReply(reply) : reply;
    });
  }

  /**
   * Deletes a session. A chat in flight on it is aborted and fails with
   * SessionNotFound; the session stays deleted.
   *
   * @throws InvalidArgument, SessionNotFound.
   */
  async delete(sessionId: string): Promise<void> {
    if (sessionId === "") throw ChatbotError.invalidArgument("session_id is required");
    const runtime = this.#runtimes.get(sessionId);
    if (runtime !== undefined) {
      runtime.deleted = true;
      runtime.inflight?.abort(ChatbotError.sessionNotFound(sessionId));
    }
    const deleted = await this.#store.delete(sessionId);
    if (!deleted) throw ChatbotError.sessionNotFound(sessionId);
    this.#log.info({ session: shortId(sessionId) }, "session deleted");
  }

  /** What may be shown of a session, or undefined. */
  async get(sessionId: string): Promise<SessionInfo | undefined> {
    const record = await this.#store.get(sessionId);
    return record === undefined ? undefined : describeSession(record);
  }

  /** Every session, as may be shown. */
  async list(): Promise<SessionInfo[]> {
    return (await this.#store.list()).map(describeSession);
  }

  async size(): Promise<number> {
    return this.#store.size();
  }

  /**
   * Renews conversations older than the renew interval and evicts zombies.
   * A session that fails is logged and skipped; the sweep goes on. Renewals
   * that ask an initial prompt run in the session's queue, in the background.
   */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { renewed: [], evicted: [], failed: [] };
    if (this.#sweeping || this.#closed) return report;
    this.#sweeping = true;
    try {
      const records = await this.#store.list();
      const now = this.#now();
      for (const record of records) {
        try {
          if (this.#isZombie(record, now)) {
            await this.#evict(record.id);
            report.evicted.push(record.id);
          } else if (this.#renewMs > 0 && now - record.conversationStartedAt > this.#renewMs) {
            this.#renewInBackground(record.id);
            report.renewed.push(record.id);
          }
        } catch (error) {
          report.failed.push(record.id);
          this.#log.error({ session: shortId(record.id), err: ChatbotError.from(error).message }, "sweep failed for a session");
        }
      }
      this.#cooldown.prune(Math.max(this.#cooldownMs[1], this.#cooldownMs[3]));
    } catch (error) {
      this.#log.error({ err: ChatbotError.from(error).message }, "sweep failed");
    } finally {
      this.#sweeping = false;
    }
    return report;
  }

  /** Stops the sweep and waits (bounded) for background renewals. Idempotent. */
  async close({ timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    if (this.#background.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#background]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  #assertOpen(): void {
    if (this.#closed) throw ChatbotError.unavailable("the server is shutting down");
  }

  /** Idle longer than the zombie threshold, with nothing in flight or queued. */
  #isZombie(record: SessionRecord, now: number): boolean {
    return (
      this.#zombieMs > 0 &&
      now - record.lastActiveAt > this.#zombieMs &&
      (this.#runtimes.get(record.id)?.pending ?? 0) === 0
    );
  }

  async #reserveSlot(): Promise<void> {
    // Reserve synchronously first, so concurrent creates cannot overshoot the limit.
    this.#reserved++;
    try {
      let size = await this.#store.size();
      if (size + this.#reserved <= this.#maxSessions) return;
      const now = this.#now();
      const zombies = (await this.#store.list())
        .filter((r) => this.#isZombie(r, now))
        .sort((a, b) => a.lastActiveAt - b.lastActiveAt);
      for (const zombie of zombies) {
        if (size + this.#reserved <= this.#maxSessions) break;
        await this.#evict(zombie.id);
        size = await this.#store.size();
      }
      if (size + this.#reserved > this.#maxSessions) throw ChatbotError.tooManySessions(this.#maxSessions);
    } catch (error) {
      this.#reserved--;
      throw error;
    }
  }

  async #evict(sessionId: string): Promise<void> {
    const runtime = this.#runtimes.get(sessionId);
    if (runtime !== undefined) {
      runtime.deleted = true;
      runtime.inflight?.abort(ChatbotError.sessionNotFound(sessionId));
    }
    if (await this.#store.delete(sessionId)) this.#log.info({ session: shortId(sessionId) }, "idle session evicted");
  }

  #renewInBackground(sessionId: string): void {
    const task = this.#enqueue(sessionId, async (runtime) => {
      const record = await this.#store.get(sessionId);
      if (record === undefined || runtime.deleted) return;
      const now = this.#now();
      if (this.#renewMs === 0 || now - record.conversationStartedAt <= this.#renewMs) return; // renewed meanwhile
      // Ask first, change the record after: a renew that fails leaves the
      // conversation as it was, and the next sweep tries again.
      let fresh: { initialResponse: string; conversation: ConversationState | null } = {
        initialResponse: "",
        conversation: null,
      };
      const backend = this.#backends(record.config);
      if (backend.initialPrompt === "ask" && record.initialPrompt.trim() !== "") {
        const controller = new AbortController();
        runtime.inflight = controller;
        try {
          fresh = await this.#askInitialPrompt(record, backend, controller.signal);
        } finally {
          runtime.inflight = undefined;
        }
      }
      if (runtime.deleted) return;
      record.history = [];
      record.conversation = fresh.conversation;
      record.initialResponse = fresh.initialResponse;
      record.conversationStartedAt = now;
      await this.#store.set(record);
      this.#log.info({ session: shortId(sessionId) }, "conversation renewed");
    }).catch((error: unknown) => {
      this.#log.warn({ session: shortId(sessionId), err: ChatbotError.from(error).message }, "renew failed");
    });
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }

  /** Asks a session's initial prompt upstream (no cooldown): the reply and the new conversation state. */
  async #askInitialPrompt(
    record: SessionRecord,
    backend: Backend,
    signal: AbortSignal,
  ): Promise<{ initialResponse: string; conversation: ConversationState | null }> {
    const credential = record.config.credentials[0]!;
    try {
      const { text, result } = await collectReply(
        backend.ask({
          prompt: record.initialPrompt,
          systemPrompt: "",
          history: [],
          conversation: null,
          credential,
          config: record.config,
          signal,
        }),
      );
      return {
        initialResponse: record.config.filter ? filterReply(text) : text,
        conversation: result.conversation ?? null,
      };
    } catch (error) {
      if (signal.aborted) throw ChatbotError.aborted(undefined, error);
      throw ChatbotError.from(error);
    }
  }

  /** Runs `task` after every earlier operation on the session has settled. */
  #enqueue<T>(sessionId: string, task: (runtime: Runtime) => Promise<T>): Promise<T> {
    let runtime = this.#runtimes.get(sessionId);
    if (runtime === undefined) {
      runtime = { tail: Promise.resolve(), pending: 0, inflight: undefined, deleted: false };
      this.#runtimes.set(sessionId, runtime);
    }
    const rt = runtime;
    rt.pending++;
    const run = rt.tail.then(() => task(rt));
    rt.tail = run.then(
      () => undefined,
      () => undefined,
    );
    void rt.tail.then(() => {
      rt.pending--;
      if (rt.pending === 0 && this.#runtimes.get(sessionId) === rt) this.#runtimes.delete(sessionId);
    });
    return run;
  }
}

function describeSession(record: SessionRecord): SessionInfo {
  let historyTokens = 0;
  for (const entry of record.history) historyTokens += entry.tokens;
  return {
    id: record.id,
    version: record.config.version,
    model: record.config.model,
    baseUrl: record.config.baseUrl,
    serverCredential: record.config.serverCredential,
    createdAt: record.createdAt,
    conversationStartedAt: record.conversationStartedAt,
    lastActiveAt: record.lastActiveAt,
    historyLength: record.history.length,
    historyTokens,
  };
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}
