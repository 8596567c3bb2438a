import { randomUUID } from "node:crypto";
import { type AskResult, type AskUsage, type BackendResolver, resultOf, unfinishedReply } from "./backend.js";
import { type BackendKindRegistry, BUILTIN_BACKEND_KINDS, type CooldownOptions, cooldownFor } from "./backend-kinds.js";
import type { ChatStreamPart, SegmentOptions } from "./chat-stream.js";
import { closeOnAbort } from "./close-on-abort.js";
import type { Coordinator, SlotReservation } from "./coordinator.js";
import { ChatbotError } from "./errors.js";
import { fitHistory, type HistoryEntry } from "./history.js";
import { askInitialPrompt, type FreshConversation, SILENT_START } from "./initial-prompt.js";
import { type Logger, shortId, silentLogger } from "./logger.js";
import { MemoryCoordinator } from "./memory-coordinator.js";
import { notify, type PoolObserver } from "./pool-observer.js";
import { checkPromptLength, DEFAULT_MAX_INITIAL_PROMPT_CHARS, DEFAULT_MAX_PROMPT_CHARS } from "./prompt-limits.js";
import { filterReply } from "./reply-filter.js";
import { Segmenter } from "./segmenter.js";
import { parseSessionConfig, type SessionConfig, type SessionConfigDefaults } from "./session-config.js";
import { checkSessionId, isPlausibleSessionId } from "./session-id.js";
import { MemorySessionStore, type SessionRecord, type SessionStore, type WriteOutcome } from "./session-store.js";
import { SessionSweeper, type SweepReport } from "./session-sweeper.js";
import { SessionTurns } from "./session-turns.js";
import { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from "./token-counter.js";

export { DEFAULT_ACCESS_TOKEN_COOLDOWN_MS, DEFAULT_API_KEY_COOLDOWN_MS } from "./backend-kinds.js";
export type { SweepReport } from "./session-sweeper.js";

export const DEFAULT_MAX_SESSIONS = 10;
export const DEFAULT_RENEW_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** Tokens the API adds to prime the assistant's reply. */
const REPLY_PRIMING_TOKENS = 3;

export interface SessionPoolOptions {
  /** Picks the backend for a session's config. */
  readonly backends: BackendResolver;
  /** Where sessions live (default: in memory). */
  readonly store?: SessionStore;
  /**
   * What replicas agree on: cooldowns, each session's turn, slots under the
   * limit (default: in this process).
   */
  readonly coordinator?: Coordinator;
  /** The backend kinds configs may name (default: the built-in two). */
  readonly kinds?: BackendKindRegistry;
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
  /** Minimum interval between two upstream requests per credential, by kind (0 disables; default: the kind's). */
  readonly cooldown?: CooldownOptions;
  /** Server defaults for reading session configs (default credentials, budget, base URL allowlist). */
  readonly configDefaults?: SessionConfigDefaults;
  /** Largest prompt and initial prompt in characters (defaults 4,000 and 10,000), checked before any work. */
  readonly limits?: { readonly promptChars?: number; readonly initialPromptChars?: number };
  /** How `chatStream` cuts replies into sentences (defaults: the segmenter's). */
  readonly segments?: SegmentOptions;
  readonly logger?: Logger;
  /** Told about cooldown refusals, time to the first streamed sentence and tokens, for metrics (default: none). */
  readonly observer?: PoolObserver;
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

/**
 * Holds chat sessions: creates them, runs each session's chats one at a
 * time, enforces the per-credential cooldown and the history budget. Every
 * state replicas share goes through the store and the coordinator; the
 * sweeper renews old conversations and evicts idle sessions.
 */
export class SessionPool {
  readonly #backends: BackendResolver;
  readonly #store: SessionStore;
  readonly #coordinator: Coordinator;
  readonly #kinds: BackendKindRegistry;
  readonly #maxSessions: number;
  readonly #cooldown: CooldownOptions;
  readonly #configDefaults: SessionConfigDefaults;
  readonly #limits: { readonly promptChars: number; readonly initialPromptChars: number };
  readonly #segments: SegmentOptions;
  readonly #log: Logger;
  readonly #observer: PoolObserver | undefined;
  readonly #now: () => number;
  readonly #turns: SessionTurns;
  readonly #sweeper: SessionSweeper;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SessionPoolOptions) {
    this.#backends = options.backends;
    this.#limits = {
      promptChars: options.limits?.promptChars ?? DEFAULT_MAX_PROMPT_CHARS,
      initialPromptChars: options.limits?.initialPromptChars ?? DEFAULT_MAX_INITIAL_PROMPT_CHARS,
    };
    this.#now = options.now ?? (() => Date.now());
    this.#segments = { ...options.segments };
    // Bad lengths fail here, at start, not on the first stream (the Segmenter validates them).
    new Segmenter(this.#segments);
    this.#store = options.store ?? new MemorySessionStore();
    this.#coordinator = options.coordinator ?? new MemoryCoordinator({ now: this.#now });
    this.#kinds = options.kinds ?? options.configDefaults?.kinds ?? BUILTIN_BACKEND_KINDS;
    this.#maxSessions = nonNegative("maxSessions", options.maxSessions ?? DEFAULT_MAX_SESSIONS);
    const renewMs = nonNegative("renewIntervalMs", options.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS);
    const zombieMs = nonNegative("zombieAfterMs", options.zombieAfterMs ?? 2 * renewMs);
    this.#cooldown = options.cooldown ?? {};
    for (const spec of this.#kinds.specs) nonNegative(`cooldown of ${spec.kind}`, cooldownFor(spec, this.#cooldown));
    this.#configDefaults = { ...options.configDefaults, kinds: this.#kinds };
    this.#log = options.logger ?? silentLogger;
    this.#observer = options.observer;
    this.#turns = new SessionTurns({ coordinator: this.#coordinator });
    this.#sweeper = new SessionSweeper({
      store: this.#store,
      turns: this.#turns,
      backends: this.#backends,
      renewMs,
      zombieMs,
      logger: this.#log,
      now: this.#now,
    });
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
    const slot = await this.#reserveSlot();
    try {
      const now = this.#now();
      const count = await loadTokenCounter(parsed.model);
      const systemPrompt =
        backend.initialPrompt === "system" ? initialPrompt.trim() || (backend.defaultSystemPrompt ?? "") : "";
      let fresh: FreshConversation = SILENT_START;
      if (backend.initialPrompt === "ask" && initialPrompt.trim() !== "") {
        fresh = await askInitialPrompt({
          config: parsed,
          initialPrompt,
          backend,
          signal: signal ?? new AbortController().signal,
        });
      }
      const record: SessionRecord = {
        id: randomUUID(),
        config: parsed,
        initialPrompt,
        initialResponse: fresh.initialResponse,
        systemTokens: systemPrompt === "" ? 0 : count(systemPrompt) + MESSAGE_OVERHEAD_TOKENS,
        history: [],
        conversation: fresh.conversation,
        createdAt: now,
        conversationStartedAt: now,
        lastActiveAt: now,
      };
      await this.#store.create(record);
      this.#log.info({ session: shortId(record.id), version: parsed.version, model: parsed.model }, "session created");
      return { sessionId: record.id, initialResponse: record.initialResponse };
    } finally {
      await slot.release();
    }
  }

  /**
   * Sends one prompt in a session and returns the whole reply (filtered when
   * the session's filter is on). Chats on one session run one at a time, in
   * arrival order; a chat waits for its turn until its signal aborts. The
   * same path as {@link chatStream}, collecting only the reply.
   *
   * @throws InvalidArgument, SessionNotFound, Cooldown, Upstream, Aborted.
   */
  async chat(input: ChatInput): Promise<string> {
    for await (const part of this.#converse(input, false)) {
      if (part.type === "done") return part.reply;
    }
    throw ChatbotError.from(new Error("a chat ended without its reply"));
  }

  /**
   * Sends one prompt in a session and streams the reply: each speakable
   * sentence as soon as it is complete (cleaned for speech when the session
   * filters; reasoning never), then `done` with the whole reply, exactly what
   * {@link chat} returns. Same turn order, cooldown (counted once per stream)
   * and errors as `chat`: thrown from the iterator, before the first part for
   * everything `chat` would reject up front, mid-stream for an upstream that
   * fails after it. The turn is stored only when the reply completed, before
   * `done`. Stopping early (`return()`, `break`) or aborting `signal` aborts
   * the upstream request and stores nothing.
   *
   * @throws InvalidArgument, SessionNotFound, Cooldown, Upstream, Aborted.
   */
  chatStream(input: ChatInput): AsyncIterable<ChatStreamPart> {
    // A transport whose client left may never pull again: the abort itself must release the turn.
    return closeOnAbort(this.#converse(input, true), input.signal);
  }

  /** One chat turn; `sentences` false: only `done` (chat() needs no segmenter). */
  async *#converse(
    { sessionId, prompt, signal }: ChatInput,
    sentences: boolean,
  ): AsyncGenerator<ChatStreamPart, void, undefined> {
    this.#assertOpen();
    const started = performance.now();
    checkSessionId(sessionId); // before the turn: a made-up id must not create keys in a shared store
    this.checkPrompt(prompt);
    if (prompt.trim() === "") throw ChatbotError.invalidArgument("prompt is required");
    if (signal?.aborted) throw ChatbotError.aborted(undefined, signal.reason);
    const turn = await this.#turns.enter(sessionId, signal);
    // The turn is aborted when the consumer leaves before the reply is done: the upstream request is cancelled with it.
    let finished = false;
    try {
      const record = await this.#store.get(sessionId);
      if (record === undefined || turn.deleted) throw ChatbotError.sessionNotFound(sessionId);
      const { config } = record;
      const backend = this.#backends(config);

      const taken = await this.#coordinator.acquireCredential({
        credentials: config.credentials,
        intervalMs: cooldownFor(this.#kinds.get(config.kind), this.#cooldown),
      });
      if (!taken.ok) {
        notify(this.#observer, "cooldownRefused", { kind: config.kind });
        throw ChatbotError.cooldown(taken.retryAfterMs);
      }

      const count = await loadTokenCounter(config.model);
      const promptTokens = count(prompt) + MESSAGE_OVERHEAD_TOKENS;
      // What no longer fits will never be sent again: the store drops it with this turn.
      const drop = fitHistory(
        record.history,
        record.systemTokens + promptTokens + REPLY_PRIMING_TOKENS,
        config.maxTokens,
      );
      const history = drop > 0 ? record.history.slice(drop) : record.history;
      // Counted now: the in-process store appends to this very array when the turn is written.
      const sentCounted =
        backend.initialPrompt === "system" ? record.systemTokens + tokensOf(history) + promptTokens : promptTokens;
      const segmenter = sentences ? new Segmenter({ ...this.#segments, filter: config.filter }) : undefined;

      // Only text parts make the reply: reasoning is dropped here, so it is never spoken, stored or sent again.
      let reply = "";
      let result: AskResult | undefined;
      let firstSegment = true;
      const segmentOut = (): void => {
        if (!firstSegment) return;
        firstSegment = false;
        notify(this.#observer, "firstSegment", { kind: config.kind, seconds: (performance.now() - started) / 1000 });
      };
      try {
        const parts = backend.ask({
          prompt,
          systemPrompt: backend.initialPrompt === "system" ? record.initialPrompt : "",
          history,
          conversation: record.conversation,
          credential: taken.credential,
          config,
          signal: turn.signal,
        });
        for await (const part of parts) {
          if (result !== undefined) continue; // nothing counts after `finish`
          if (part.type === "text") {
            reply += part.text;
            if (segmenter !== undefined) {
              for (const text of segmenter.push(part.text)) {
                segmentOut();
                yield { type: "sentence", text };
              }
            }
          } else if (part.type === "finish") {
            result = resultOf(part);
          }
        }
        if (result === undefined) throw unfinishedReply();
      } catch (error) {
        if (turn.deleted) throw ChatbotError.sessionNotFound(sessionId);
        if (signal?.aborted) throw ChatbotError.aborted(undefined, error);
        throw ChatbotError.from(error);
      }
      // The last sentences go out before the store write: speech need not wait for it.
      if (segmenter !== undefined) {
        for (const text of segmenter.flush()) {
          segmentOut();
          yield { type: "sentence", text };
        }
      }

      // A session deleted while its chat was in flight stays deleted.
      if (turn.deleted) throw ChatbotError.sessionNotFound(sessionId);
      const conversation = result.conversation !== undefined ? result.conversation : record.conversation;
      const user: HistoryEntry = { role: "user", content: prompt, tokens: promptTokens };
      const assistant: HistoryEntry = {
        role: "assistant",
        content: reply,
        tokens: count(reply) + MESSAGE_OVERHEAD_TOKENS,
      };
      const outcome = await this.#store.appendTurn(sessionId, turn.token, {
        drop,
        append: [user, assistant],
        conversation,
        lastActiveAt: this.#now(),
      });
      assertWritten(outcome, sessionId);
      finished = true;
      this.#countTokens({
        kind: config.kind,
        usage: result.usage,
        sent: sentCounted,
        received: assistant.tokens - MESSAGE_OVERHEAD_TOKENS,
      });
      // The turn is over once stored: the next chat need not wait for this consumer to take `done`.
      await turn.release();
      yield { type: "done", reply: config.filter ? filterReply(reply) : reply };
    } finally {
      if (!finished) turn.abort(ChatbotError.aborted());
      await turn.release();
    }
  }

  /**
   * Deletes a session. A chat in flight on it is aborted and fails with
   * SessionNotFound; the session stays deleted.
   *
   * @throws InvalidArgument, SessionNotFound.
   */
  async delete(sessionId: string): Promise<void> {
    checkSessionId(sessionId);
    this.#turns.deleted(sessionId);
    const deleted = await this.#store.delete(sessionId);
    if (!deleted) throw ChatbotError.sessionNotFound(sessionId);
    this.#log.info({ session: shortId(sessionId) }, "session deleted");
  }

  /** What may be shown of a session, or undefined. */
  async get(sessionId: string): Promise<SessionInfo | undefined> {
    if (!isPlausibleSessionId(sessionId)) return undefined;
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
   * that ask an initial prompt run in the session's turn, in the background.
   */
  async sweep(): Promise<SweepReport> {
    if (this.#closed) return { renewed: [], evicted: [], failed: [] };
    return this.#sweeper.sweep();
  }

  /** Stops the sweep and waits (bounded) for background renewals. Idempotent. */
  async close({ timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#sweeper.settle(timeoutMs);
  }

  /** Reports a turn's tokens: the upstream's usage where it gave it, else the counts made here. */
  #countTokens({
    kind,
    usage,
    sent,
    received,
  }: {
    kind: string;
    usage: AskUsage | undefined;
    sent: number;
    received: number;
  }): void {
    if (this.#observer?.tokens === undefined) return;
    const reportedSent = usage?.promptTokens;
    const reportedReceived = usage?.completionTokens;
    const reported = (n: number | undefined): boolean => n !== undefined;
    notify(this.#observer, "tokens", {
      kind,
      direction: "sent",
      tokens: reportedSent ?? sent,
      reported: reported(reportedSent),
    });
    notify(this.#observer, "tokens", {
      kind,
      direction: "received",
      tokens: reportedReceived ?? received,
      reported: reported(reportedReceived),
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw ChatbotError.unavailable("the server is shutting down");
  }

  /** A slot under the session limit, evicting zombies (the most idle first) when full. */
  async #reserveSlot(): Promise<SlotReservation> {
    const request = { limit: this.#maxSessions, occupied: () => this.#store.size() };
    const first = await this.#coordinator.reserveSlot(request);
    if (first !== undefined) return first;
    for (const zombie of await this.#sweeper.zombies()) {
      if (!(await this.#sweeper.evict(zombie.id))) continue;
      const slot = await this.#coordinator.reserveSlot(request);
      if (slot !== undefined) return slot;
    }
    throw ChatbotError.tooManySessions(this.#maxSessions);
  }
}

/** A fenced write that did not happen: the session is gone, or another holder's turn superseded this one. */
function assertWritten(outcome: WriteOutcome, sessionId: string): void {
  if (outcome === "not-found") throw ChatbotError.sessionNotFound(sessionId);
  if (outcome === "stale")
    throw ChatbotError.unavailable("the session's turn was lost before its reply was saved; try again");
}

function tokensOf(entries: readonly HistoryEntry[]): number {
  let tokens = 0;
  for (const entry of entries) tokens += entry.tokens;
  return tokens;
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
