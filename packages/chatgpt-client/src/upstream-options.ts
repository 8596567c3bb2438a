import type { Logger } from "@chatgptchatbot/core";
import type { Sleep } from "./http/retry.js";
import type { UpstreamObserver } from "./upstream-observer.js";

/** What both backends take besides their transport: model, deadline, retries, logging. */
export interface UpstreamOptions {
  /** The server's default model (CHATGPT_MODEL); undefined: the backend's own default. */
  readonly model?: string | undefined;
  /** The total deadline of one attempt, headers and the whole streamed reply (ms); a timed-out attempt is not retried. */
  readonly requestTimeoutMs: number;
  /** Retries on 429, 5xx and failed connections. */
  readonly maxRetries: number;
  readonly logger?: Logger | undefined;
  /** How retries wait (tests record the waits instead of waiting). */
  readonly sleep?: Sleep | undefined;
  /** Told how each upstream request ended and how long it took, and about retries, for metrics (default: none). */
  readonly observer?: UpstreamObserver | undefined;
}
