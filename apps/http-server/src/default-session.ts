import {
  ChatbotError,
  type ChatStreamPart,
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
  /**
   * For a memory several replicas share: saves `snapshot` only while the
   * memory still names `replacing` (a session id; undefined: none), as one
   * atomic step, so replicas creating the default session at once agree on one.
   *
   * @returns what the memory names afterwards: `snapshot`, or what another replica saved first.
   */
  claim?(input: { snapshot: DefaultSessionSnapshot; replacing: string | undefined }): Promise<DefaultSessionSnapshot>;
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
  /** Settles once what `memory` held has been taken over (first ask or renew, and after a session is gone). */
  #restored: Promise<void> | undefined;
  /** The session last found gone: a reload of `memory` does not take it back. */
  #goneId: string | undefined;
  /** The session `memory` named when last read or written (what a claim replaces). */
  #memoryNames: string | undefined;

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
    for (let attempt = 0; ; attempt++) {
      await this.#restore();
      const sessionId = await this.#current();
      try {
        return await this.#pool.chat({ sessionId, prompt, signal });
      } catch (error) {
        const gone = error instanceof ChatbotError && error.code === ErrorCode.SessionNotFound;
        if (!gone || attempt > 0 || signal?.aborted) throw error;
        this.#forget(sessionId);
        // Another replica sharing the memory may have renewed (and deleted this session): look again.
        this.#reloadAfter(sessionId);
        this.#log.info({ session: shortId(sessionId) }, "default session is gone; asking in a new one");
      }
    }
  }

  /**
   * Asks the default session and streams the reply (see
   * {@link SessionPool.chatStream}): sentences, then the whole reply. A
   * session found gone before the first part is replaced once, as in
   * {@link ask}; after it, failures end the stream.
   *
   * @throws what {@link ask} throws, from the iterator.
   */
  async *askStream({
    prompt,
    signal,
  }: {
    prompt: string;
    signal?: AbortSignal;
  }): AsyncGenerator<ChatStreamPart, void, undefined> {
    this.#pool.checkPrompt(prompt);
    for (let attempt = 0; ; attempt++) {
      const sessionId = await this.#current();
      let started = false;
      try {
        for await (const part of this.#pool.chatStream({ sessionId, prompt, signal })) {
          started = true;
          yield part;
        }
        return;
      } catch (error) {
        const gone = error instanceof ChatbotError && error.code === ErrorCode.SessionNotFound;
        if (!gone || started || attempt > 0 || signal?.aborted) throw error;
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

  /**
   * Reads `memory` again at the next ask, a session being gone: another
   * replica may have saved a renewed credential and its session there. The
   * gone session itself is not taken back (an evicted one stays evicted).
   */
  #reloadAfter(goneId: string): void {
    if (this.#memory === undefined) return;
    this.#goneId = goneId;
    this.#restored = undefined;
  }

  /** Takes over the session and credential a previous run (or another replica) left in `memory`. */
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
      this.#memoryNames = snapshot?.sessionId;
      if (snapshot === undefined || this.#session !== undefined) return;
      this.#config = snapshot.config;
      if (snapshot.sessionId === this.#goneId) return; // the next ask creates a new one with this credential
      this.#session = Promise.resolve(snapshot.sessionId);
      this.#sessionId = snapshot.sessionId;
      this.#log.info(
        {
          session: shortId(snapshot.sessionId),
          credentialSource: snapshot.config === "" ? "server default" : "renewed",
        },
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
      this.#memoryNames = sessionId;
    } catch (error) {
      this.#log.warn(
        { session: shortId(sessionId), err: ChatbotError.from(error).message },
        "the default session could not be saved",
      );
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
    if (this.#config !== config) return sessionId; // a renew replaced the credential meanwhile: it saved its own
    if (this.#memory?.claim === undefined) {
      await this.#remember(sessionId, config);
      return sessionId;
    }
    const winner = await this.#claim({ sessionId, config });
    if (winner.sessionId === sessionId) return sessionId;
    // Another replica created the default session at the same time and saved it first: one session for all.
    this.#config = winner.config;
    await this.#pool.delete(sessionId).catch(() => undefined);
    this.#log.info(
      { session: shortId(winner.sessionId), dropped: shortId(sessionId) },
      "default session taken from another replica",
    );
    return winner.sessionId;
  }

  /** Claims the memory for a session just created; on failure (logged) keeps ours, as a failed save does. */
  async #claim(snapshot: DefaultSessionSnapshot): Promise<DefaultSessionSnapshot> {
    try {
      const winner = await this.#memory!.claim!({ snapshot, replacing: this.#memoryNames });
      this.#memoryNames = winner.sessionId;
      return winner;
    } catch (error) {
      this.#log.warn(
        { session: shortId(snapshot.sessionId), err: ChatbotError.from(error).message },
        "the default session could not be saved",
      );
      return snapshot;
    }
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
        this.#log.warn(
          { session: shortId(id), err: ChatbotError.from(error).message },
          "could not delete the replaced session",
        );
      }
    }
  }
}
