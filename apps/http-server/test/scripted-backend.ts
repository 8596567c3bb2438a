import type { AskRequest, Backend } from "@chatgptchatbot/core";

/** What a test's backend does with one request: the reply text, or a throw. */
export type Script = (request: AskRequest) => string | Promise<string>;

/** An in-memory core Backend for unit tests: records every request (history as it was) and answers with `script`. */
export class ScriptedBackend implements Backend {
  readonly initialPrompt = "system" as const;
  readonly requests: AskRequest[] = [];
  script: Script;

  constructor(script: Script = (request) => `echo: ${request.prompt}`) {
    this.script = script;
  }

  async *ask(request: AskRequest): AsyncGenerator<string, void, undefined> {
    this.requests.push({ ...request, history: [...request.history] }); // the pool appends to its array later
    yield await this.script(request);
  }
}

/** A script step that waits until the request is aborted, then throws the AbortError. */
export function untilAborted(request: AskRequest): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => reject(new DOMException("The operation was aborted.", "AbortError"));
    if (request.signal.aborted) fail();
    else request.signal.addEventListener("abort", fail, { once: true });
  });
}

/** A promise with its resolve function, for steps a test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A core Logger that keeps every line, for assertions. */
export class MemoryLogger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: "debug", obj: obj as Record<string, unknown>, msg });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: "info", obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: "warn", obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: "error", obj: obj as Record<string, unknown>, msg });
  }
}
