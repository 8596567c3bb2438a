import { type AskPart, type AskRequest, type Backend, ChatbotError } from "@chatgptchatbot/core";

/**
 * What the backend answers one request with: the reply text (streamed as two
 * text parts and a `finish`), or the parts themselves, yielded as given (an
 * `async function*` can wait, throw mid-stream, or leave out the `finish`);
 * or a throw, to fail it before any part.
 */
export type Script = (
  request: AskRequest,
) => string | AsyncIterable<AskPart> | Promise<string | AsyncIterable<AskPart>>;

export interface ScriptedBackendOptions {
  /** How the session's initial prompt is used (default "system"). */
  readonly initialPrompt?: "system" | "ask";
  /** The persona a "system" backend sends when a session has none. */
  readonly defaultSystemPrompt?: string;
  /** Answers every request no step is queued for (default: `echo: <prompt>`). */
  readonly script?: Script;
  /** Each reply waits for {@link ScriptedBackend.release} (or the request's abort). */
  readonly gate?: boolean;
  /** With `gate`: keep waiting for release() even after the abort (a backend that ignores aborts). */
  readonly ignoreAbort?: boolean;
}

/**
 * The one in-memory core Backend for tests of the pool and the transports:
 * records every request (its history copied as it was), answers with a
 * script or one-off steps, streams each text reply in two text parts (so
 * callers must fold them) and a `finish`, which for "ask" backends carries
 * conversation state `{ conversationId: "c1", turn }` counting its replies.
 * Scripts may stream parts of their own instead (reasoning, failures, waits).
 */
export class ScriptedBackend implements Backend {
  readonly initialPrompt: "system" | "ask";
  readonly defaultSystemPrompt: string | undefined;
  readonly requests: AskRequest[] = [];
  /** Answers requests no step is queued for; tests may replace it. */
  script: Script;
  readonly #steps: Script[] = [];
  readonly #gate: boolean;
  readonly #ignoreAbort: boolean;
  readonly #waiting: (() => void)[] = [];
  #turn = 0;

  constructor({
    initialPrompt = "system",
    defaultSystemPrompt,
    script,
    gate = false,
    ignoreAbort = false,
  }: ScriptedBackendOptions = {}) {
    this.initialPrompt = initialPrompt;
    this.defaultSystemPrompt = defaultSystemPrompt;
    this.script = script ?? ((request) => `echo: ${request.prompt}`);
    this.#gate = gate;
    this.#ignoreAbort = ignoreAbort;
  }

  /** The next request no earlier step took is answered by `step`. */
  next(step: Script): this {
    this.#steps.push(step);
    return this;
  }

  /** Lets the oldest gated reply go on. */
  release(): void {
    this.#waiting.shift()?.();
  }

  async *ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined> {
    // The pool's history array is valid only during the call: keep a snapshot.
    this.requests.push({ ...request, history: [...request.history] });
    const step = this.#steps.shift() ?? this.script;
    if (this.#gate) await this.#released(request.signal);
    const answer = await step(request);
    if (typeof answer !== "string") {
      yield* answer;
      return;
    }
    const mid = Math.floor(answer.length / 2);
    yield { type: "text", text: answer.slice(0, mid) };
    yield { type: "text", text: answer.slice(mid) };
    this.#turn++;
    yield this.initialPrompt === "ask"
      ? { type: "finish", conversation: { conversationId: "c1", turn: this.#turn } }
      : { type: "finish" };
  }

  #released(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push(resolve);
      if (!this.#ignoreAbort) {
        signal.addEventListener("abort", () => reject(signal.reason ?? new Error("aborted")), { once: true });
      }
    });
  }
}

/** A script step that waits until the request is aborted, then throws an AbortError as fetch would. */
export function untilAborted(request: AskRequest): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => reject(new DOMException("The operation was aborted.", "AbortError"));
    if (request.signal.aborted) fail();
    else request.signal.addEventListener("abort", fail, { once: true });
  });
}

/** A failure as a backend reports an upstream 500. */
export function upstreamDown(): ChatbotError {
  return ChatbotError.upstream("upstream answered 500: boom", { status: 500 });
}
