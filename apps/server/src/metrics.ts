import type { UpstreamObserver } from "@chatgptchatbot/chatgpt-client";
import type { PoolObserver } from "@chatgptchatbot/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { StoreObserver } from "./instrumented-store.js";

/** One finished call of either transport (gRPC-server's and HTTP-server's CallRecord have this shape). */
export interface CallRecord {
  readonly method: string;
  readonly protocol: string;
  readonly code: string;
  readonly seconds: number;
}

/**
 * The program's Prometheus metrics: one registry per program (not
 * prom-client's global one, so several servers in one process, as in tests,
 * keep theirs apart), fed by the observers the libraries take. Every label
 * comes from a fixed set (RPC names, route names, status codes, backend
 * kinds, outcomes): never a credential, a prompt, a session id or a client
 * address.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** For SessionPool's `observer`. */
  readonly pool: PoolObserver;
  /** For the backends' `observer`. */
  readonly upstream: UpstreamObserver;
  /** For the store decorator ({@link InstrumentedSessionStore}). */
  readonly store: StoreObserver;
  /** For both transports' `onCall`. */
  readonly onCall: (call: CallRecord) => void;
  /** For both transports' `metrics`: the exposition in Prometheus' text format. */
  readonly source: () => Promise<{ contentType: string; body: string }>;
  /** Where `chatbot_sessions` is read from at each scrape. */
  countSessions(size: () => Promise<number>): void;
}

/** Latencies of calls and upstream requests: 5 ms to a minute (replies stream for seconds). */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** When speech can start: 100 ms to half a minute. */
const FIRST_SEGMENT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];
/** Store operations: half a millisecond (in memory) to a second (a remote store in trouble). */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const calls = new Counter({
    name: "chatbot_calls_total",
    help: "Calls answered, by RPC or HTTP route, protocol (grpc, grpc-web, connect, http) and status code.",
    labelNames: ["method", "protocol", "code"] as const,
    registers,
  });
  const callSeconds = new Histogram({
    name: "chatbot_call_duration_seconds",
    help: "Call latency to the end of the answer (a stream's last message), by RPC or HTTP route and protocol.",
    labelNames: ["method", "protocol"] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const upstreamRequests = new Counter({
    name: "chatbot_upstream_requests_total",
    help:
      "Upstream requests by backend and outcome: ok, aborted (the caller gave up), " +
      "or the failure's kind (timeout, network, http_4xx, http_5xx, malformed, other).",
    labelNames: ["backend", "outcome"] as const,
    registers,
  });
  const upstreamSeconds = new Histogram({
    name: "chatbot_upstream_request_duration_seconds",
    help: "Upstream request latency, retries included, to the end of the streamed reply, by backend and outcome.",
    labelNames: ["backend", "outcome"] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const upstreamRetries = new Counter({
    name: "chatbot_upstream_retries_total",
    help: "Upstream attempts retried, by backend and the kind of failure retried.",
    labelNames: ["backend", "outcome"] as const,
    registers,
  });
  const firstSegment = new Histogram({
    name: "chatbot_first_segment_seconds",
    help: "Time from a streamed chat's start to its first speakable sentence, by backend kind.",
    labelNames: ["kind"] as const,
    buckets: FIRST_SEGMENT_BUCKETS,
    registers,
  });
  const cooldownRefusals = new Counter({
    name: "chatbot_cooldown_refusals_total",
    help: "Chats refused because their credential was cooling down, by backend kind.",
    labelNames: ["kind"] as const,
    registers,
  });
  const tokens = new Counter({
    name: "chatbot_tokens_total",
    help: "Tokens of completed turns by backend kind, direction (sent, received) and source (reported by the upstream, or counted here).",
    labelNames: ["kind", "direction", "source"] as const,
    registers,
  });
  const storeSeconds = new Histogram({
    name: "chatbot_store_operation_duration_seconds",
    help: "Session store operation latency, by operation.",
    labelNames: ["operation"] as const,
    buckets: STORE_BUCKETS,
    registers,
  });
  const storeErrors = new Counter({
    name: "chatbot_store_errors_total",
    help: "Session store operations that failed, by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  let sessionCount: (() => Promise<number>) | undefined;
  new Gauge({
    name: "chatbot_sessions",
    help: "Sessions held in the session store.",
    registers,
    async collect() {
      if (sessionCount === undefined) return;
      try {
        this.set(await sessionCount());
      } catch {
        // The store failed (counted in chatbot_store_errors_total): keep the last value rather than fail the scrape.
      }
    },
  });

  return {
    registry,
    pool: {
      cooldownRefused: ({ kind }) => cooldownRefusals.inc({ kind }),
      firstSegment: ({ kind, seconds }) => firstSegment.observe({ kind }, seconds),
      tokens: ({ kind, direction, tokens: n, reported }) =>
        tokens.inc({ kind, direction, source: reported ? "upstream" : "counted" }, n),
    },
    upstream: {
      request: ({ backend, outcome, seconds }) => {
        upstreamRequests.inc({ backend, outcome });
        upstreamSeconds.observe({ backend, outcome }, seconds);
      },
      retry: ({ backend, outcome }) => upstreamRetries.inc({ backend, outcome }),
    },
    store: ({ operation, seconds, ok }) => {
      storeSeconds.observe({ operation }, seconds);
      if (!ok) storeErrors.inc({ operation });
    },
    onCall: ({ method, protocol, code, seconds }) => {
      calls.inc({ method, protocol, code });
      callSeconds.observe({ method, protocol }, seconds);
    },
    source: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    countSessions(size) {
      sessionCount = size;
    },
  };
}
