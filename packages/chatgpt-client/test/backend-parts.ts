/**
 * What the backends' tests build a backend under test from, so that the
 * API-key and access-token suites start from the same settings.
 */
import { type Closers, type RecordingLogger, recordingLogger } from "@chatgptchatbot/testkit/testing";
import type { Dispatcher } from "undici";
import { createUpstreamDispatcher } from "../src/http/dispatcher.js";
import type { UpstreamOptions } from "../src/upstream-options.js";

export interface BackendParts {
  /** A dispatcher of the backend's own, as the program builds it; destroyed after the test. */
  readonly dispatcher: Dispatcher;
  /** A 10 s deadline, two retries, the logger below and a `sleep` that records instead of waiting. */
  readonly options: UpstreamOptions & { readonly logger: RecordingLogger };
  /** What the retries would have waited, in ms, in order. */
  readonly delays: number[];
  readonly logger: RecordingLogger;
}

export function backendParts(cleanup: Closers): BackendParts {
  const dispatcher = createUpstreamDispatcher();
  cleanup.push(() => dispatcher.destroy());
  const delays: number[] = [];
  const logger = recordingLogger();
  const sleep = async (ms: number) => {
    delays.push(ms);
  };
  return {
    dispatcher,
    options: { requestTimeoutMs: 10_000, maxRetries: 2, logger, sleep },
    delays,
    logger,
  };
}
