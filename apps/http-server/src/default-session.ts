import {
  ChatbotError,
  ErrorCode,
  type Logger,
  maskSecret,
  type SessionPool,
  type SessionVersion,
  shortId,
  silentLogger,
} from "@chatgptchatbot/core";

export interface DefaultSessionOptions {
  /** The shared pool the session lives in (cooldown per credential is shared with every transport). */
  readonly pool: SessionPool;
  readonly logger?: Logger;
  /** Where the session's id and renewed credential survive a restart (the program's store); default: nowhere. */
  readonly memory?: DefaultSessionMemory;
}

/**
 * What the default session must remember across a restart: which session it
 * is, and the config a `/renew` gave it (it holds a credential: a durable
 * implementation keeps it as it keeps session credentials).
 */
export interface DefaultSessionSnapshot {
  readonly sessionId: string;
  /** The NewSession config of the last renew; "" for the server's default credential. */
  readonly config: string;
}

/** A place for one {@link DefaultSessionSnapshot}. */
export interface DefaultSessionMemory {
  load(): Promise<DefaultSessionSnapshot | undefined>;
  save(snapshot: DefaultSessionSnapshot): Promise<void>;
}

export interface RenewInput {
  /** 1: an access token (ChatGPT web), 3: an API key (OpenAI-compatible). */
  readonly version: SessionVersion;
  readonly credential: string;
}

/**
 * The one session of the legacy HTTP API, the old service's single chatbot:
 * created lazily in the shared pool from the server's default credential, or
 * from the credential of the last successful {@link renew}. An evicted session
 * is recreated on the next ask; a renew creates the new session before it
 * deletes the old one, so a renew that fails changes nothing. With a
 * `memory`, the session and the renewed credential are remembered there, so
 * a restarted server goes on in the same session.
 */
export class DefaultSession {
  readonly #pool: SessionPool;
  readonly #log: Logger;
  /** The NewSession config to (re)create the session from; "" means the server's default credential. */
  #config = "";
  /** The current session (being created, or created); undefined: create on the next ask. */
  #session: Promise<string> | undefined;
  /** The id #session resolved to, while it is still the current one. */
  #sessionId: string | undefined;
  /** Renews run one after another, so the last one called wins. */
  #renewing: Promise<unknown> = Promise.resolve();
  readonly #memory: DefaultSessionMemory | undefined;
  /** Settles once what `memory` held has been taken over (first ask or renew). */
  #restored: Promise<void> | undefined;

  constructor({ pool, logger = silentLogger, memory }: DefaultSessionOptions) {
    this.#pool = pool;
    this.#log = logger;
    this.#memory = memory;
  }

  /** The id of the current session, if it has been created. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Whether a `/renew` has replaced the server's default credential. */
  get renewed(): boolean {
    return this.#config !== "";
  }

  /**
   * Asks the default session. If the session is gone (evicted, or replaced by
   * a renew while this prompt was in flight), asks once more in the current one.
   *
   * @throws Unavailable (503) when there is no credential yet, and whatever
   *   {@link SessionPool.chat} throws.
   */
  async ask({ prompt, signal }: { prompt: string; signal?: AbortSignal }): Promise<string> {
    this.#pool.checkPrompt(prompt); // an oversized prompt is refused before a session is even created
    await this.#restore();
    for (let attempt = 0; ; attempt++) {
      const sessionId = await this.#current();
      try {
        return await this.#pool.chat({ sessionId, prompt, signal });
      } catch (error) {
        const gone = error instanceof ChatbotError && error.code === ErrorCode.SessionNotFound;
        if (!gone || attempt > 0 || signal?.aborted) throw error;
        this.#forget(sessionId);
        this.#log.info({ session: shortId(sessionId) }, "default session is gone; asking in a new one");
      }
    }
  }

  /**
   * Replaces the credential of the default session: a new session (its
   * history empty) takes the old one's place, which is then deleted. Nothing
   * is sent upstream. On failure the old credential and session stay.
   *
   * @throws InvalidArgument for a credential the pool does not accept; TooManySessions.
   */
  renew(input: RenewInput): Promise<void> {
    const run = this.#renewing.then(() => this.#restore()).then(() => this.#renew(input));
    this.#renewing = run.catch(() => undefined);
    return run;
  }

  async #renew({ version, credential }: RenewInput): Promise<void> {
    const config = JSON.stringify(
      version === 1 ? { version, access_token: credential } : { version, api_key: credential },
    );
    const parsed = this.#pool.parseConfig(config); // a bad credential fails here, before anything changes
    let created: { sessionId: string };
    try {
      created = await this.#pool.create({ config: parsed });
    } catch (error) {
      const full = error instanceof ChatbotError && error.code === ErrorCode.TooManySessions;
      if (!full || this.#session === undefined) throw error;
      // The pool is full: give up our own slot first. The old credential stays
      // configured until the new session exists, so if this create fails too the
      // next ask recreates the old session: nothing but its history is lost.
      const old = this.#session;
      this.#clear();
      await this.#delete(old);
      created = await this.#pool.create({ config: parsed });
    }
    const old = this.#session; // read now: an ask may have created one meanwhile
    this.#config = config;
    this.#session = Promise.resolve(created.sessionId);
    this.#sessionId = created.sessionId;
    await this.#remember(created.sessionId, config);
    if (old !== undefined) await this.#delete(old);
    this.#log.info(
      { session: shortId(created.sessionId), version, credentialMasked: maskSecret(credential) },
      "default session renewed with a new credential",
    );
  }

  /** Takes over the session and credential a previous run left in `memory`, once. */
  #restore(): Promise<void> {
    this.#restored ??= (async () => {
      if (this.#memory === undefined) return;
      let snapshot: DefaultSessionSnapshot | undefined;
      try {
        snapshot = await this.#memory.load();
      } catch (error) {
        // Not fatal: the server's default credential (or the next renew) still serves.
        this.#log.warn({ err: ChatbotError.from(error).message }, "the default session could not be restored");
        return;
      }
      if (snapshot === undefined || this.#session !== undefined) return;
      this.#config = snapshot.config;
      this.#session = Promise.resolve(snapshot.sessionId);
      this.#sessionId = snapshot.sessionId;
      this.#log.info(
        { session: shortId(snapshot.sessionId), credentialSource: snapshot.config === "" ? "server default" : "renewed" },
        "default session restored",
      );
    })();
    return this.#restored;
  }

  /** Saves the current session and credential to `memory`; a failure is logged (the session still serves). */
  async #remember(sessionId: string, config: string): Promise<void> {
    if (this.#memory === undefined) return;
    try {
      await this.#memory.save({ sessionId, config });
    } catch (error) {
      this.#log.warn({ session: shortId(sessionId), err: ChatbotError.from(error).message }, "the default session could not be saved");
    }
  }

  /** The current session's id, creating the session if there is none. */
  #current(): Promise<string> {
    if (this.#session !== undefined) return this.#session;
    const config = this.#config;
    const session = this.#create(config);
    this.#session = session;
    session.then(
      (id) => {
        if (this.#session === session) this.#sessionId = id;
      },
      () => {
        if (this.#session === session) this.#clear(); // do not cache a failure: the next ask tries again
      },
    );
    return session;
  }

  async #create(config: string): Promise<string> {
    if (config === "") this.#assertServerCredential();
    const { sessionId } = await this.#pool.create({ config });
    this.#log.info(
      { session: shortId(sessionId), credentialSource: config === "" ? "server default" : "renewed" },
      "default session created",
    );
    if (this.#config === config) await this.#remember(sessionId, config);
    return sessionId;
  }

  #assertServerCredential(): void {
    try {
      this.#pool.parseConfig("");
    } catch (error) {
      if (!(error instanceof ChatbotError && error.code === ErrorCode.InvalidArgument)) throw error;
      // The operator has not configured the server yet: not the client's fault (503, not 4xx).
      throw ChatbotError.unavailable(
        "no credential: the server has no default API key or access token; " +
          'POST /renew {"access_token": "..."} (or {"api_key": "...", "version": 3}) first',
      );
    }
  }

  #forget(sessionId: string): void {
    if (this.#sessionId === sessionId) this.#clear();
  }

  #clear(): void {
    this.#session = undefined;
    this.#sessionId = undefined;
  }

  /** Deletes a replaced session; one that is already gone (or never came) is fine. */
  async #delete(session: Promise<string>): Promise<void> {
    let id: string;
    try {
      id = await session;
    } catch {
      return;
    }
    try {
      await this.#pool.delete(id);
    } catch (error) {
      if (!(error instanceof ChatbotError && error.code === ErrorCode.SessionNotFound)) {
        this.#log.warn({ session: shortId(id), err: ChatbotError.from(error).message }, "could not delete the replaced session");
      }
    }
  }
}
