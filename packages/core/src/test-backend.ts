import type { AskRequest, AskResult, Backend } from "./backend.js";
import { ChatbotError } from "./errors.js";

/** A scripted in-memory backend for core's unit tests (not exported from the package). */
export interface ScriptedBackend extends Backend {
  readonly calls: AskRequest[];
  /** Resolves the next pending gated reply (see `gate`). */
  release(): void;
}

export function scriptedBackend({
  initialPrompt = "system",
  reply = (req: AskRequest) => `echo: ${req.prompt}`,
  gate = false,
  ignoreAbort = false,
  failWith,
}: {
  initialPrompt?: "system" | "ask";
  reply?: (req: AskRequest) => string;
  /** When true, each reply waits for release() (or the abort signal). */
  gate?: boolean;
  /** With gate: keep waiting for release() even when the signal aborts (a backend that ignores aborts). */
  ignoreAbort?: boolean;
  failWith?: (req: AskRequest) => Error | undefined;
} = {}): ScriptedBackend {
  const calls: AskRequest[] = [];
  const waiting: (() => void)[] = [];
  let turn = 0;
  return {
    initialPrompt,
    calls,
    release() {
      waiting.shift()?.();
    },
    async *ask(req: AskRequest): AsyncGenerator<string, AskResult | void, undefined> {
      // The pool's history array is only valid during the call: keep a snapshot.
      calls.push({ ...req, history: [...req.history] });
      if (gate) {
        await new Promise<void>((resolve, reject) => {
          waiting.push(resolve);
          if (!ignoreAbort) {
            req.signal.addEventListener("abort", () => reject(req.signal.reason ?? new Error("aborted")), { once: true });
          }
        });
      }
      const failure = failWith?.(req);
      if (failure) throw failure;
      const text = reply(req);
      // Stream in two deltas to exercise the fold.
      const mid = Math.floor(text.length / 2);
      yield text.slice(0, mid);
      yield text.slice(mid);
      turn++;
      return initialPrompt === "ask" ? { conversation: { conversationId: "c1", turn } } : undefined;
    },
  };
}

export const upstreamDown = (): Error => ChatbotError.upstream("upstream answered 500: boom", { status: 500 });
