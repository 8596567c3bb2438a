import type { AskRequest, AskResult, Backend } from "@chatgptchatbot/core";

/** An in-test core Backend: replies `echo: <prompt>` unless a step says otherwise; records every request. */
export class ScriptedBackend implements Backend {
  readonly requests: AskRequest[] = [];
  readonly #steps: ((request: AskRequest) => Promise<string> | string)[] = [];

  constructor(readonly initialPrompt: "system" | "ask" = "system") {}

  /** The next request is answered by `step` (throw a ChatbotError to fail it). */
  next(step: (request: AskRequest) => Promise<string> | string): this {
    this.#steps.push(step);
    return this;
  }

  async *ask(request: AskRequest): AsyncGenerator<string, AskResult | void, undefined> {
    this.requests.push(request);
    const step = this.#steps.shift();
    yield step === undefined ? `echo: ${request.prompt}` : await step(request);
  }
}

/** Resolves when `signal` aborts (for steps that hang until the caller gives up). */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}
