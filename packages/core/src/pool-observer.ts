import type { BackendKind } from "./backend-kinds.js";

/**
 * What the pool reports as it works, for metrics. Core knows no metrics
 * library: the program hands in an observer that feeds its own registry.
 * Every hook is optional and is called synchronously on the chat's path, so
 * it must be cheap; one that throws is ignored (a metric never fails a chat).
 * Nothing passed identifies a session, a credential or a prompt.
 */
export interface PoolObserver {
  /** A chat was refused because its credential is cooling down. */
  cooldownRefused?(info: { readonly kind: BackendKind }): void;
  /**
   * A streamed reply's first sentence went out, `seconds` after the stream
   * was asked for (waiting for the session's turn included): what a listener
   * waits before the avatar starts speaking.
   */
  firstSegment?(info: { readonly kind: BackendKind; readonly seconds: number }): void;
  /**
   * A completed turn's tokens, once per direction: `reported` when the
   * upstream said how many (its `usage`), else counted here with the model's
   * tokenizer (what was sent: the prompt, plus the system prompt and history
   * for backends that are sent them; what came back: the reply's text).
   */
  tokens?(info: {
    readonly kind: BackendKind;
    readonly direction: "sent" | "received";
    readonly tokens: number;
    readonly reported: boolean;
  }): void;
}

/** Calls one hook of an observer, never letting it fail the caller. */
export function notify<K extends keyof PoolObserver>(
  observer: PoolObserver | undefined,
  hook: K,
  info: Parameters<NonNullable<PoolObserver[K]>>[0],
): void {
  const fn = observer?.[hook] as ((info: unknown) => void) | undefined;
  if (fn === undefined) return;
  try {
    fn.call(observer, info);
  } catch {
    // A metric must never fail a chat.
  }
}
