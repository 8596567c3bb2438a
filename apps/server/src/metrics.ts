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
  /** For the logger's `onDroppedLine`: one log line dropped while stdout was not read. */
  readonly droppedLogLine: () => void;
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
  const series = seriesIn(registry);
  // Built in this order, so the exposition lists the series as it always has.
  const onCall = callMetrics(series);
  const upstream = upstreamMetrics(series);
  const pool = poolMetrics(series);
  const store = storeMetrics(series);
  let sessionCount: (() => Promise<number>) | undefined;
  sessionsGauge(registry, () => sessionCount);
  const droppedLogLines = series.counter({
    name: "chatbot_log_lines_dropped_total",
    help: "Log lines dropped because stdout was not read (more than 16 MiB of lines waited to be written).",
    labelNames: [],
  });
  return {
    registry,
    pool,
    upstream,
    store,
    onCall,
    source: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    countSessions(size) {
      sessionCount = size;
    },
    droppedLogLine: () => droppedLogLines.inc(),
  };
}

/** prom-client's metrics, registered in one registry (the program's own, never the global one). */
interface Series {
  counter<L extends string>(options: { name: string; help: string; labelNames: readonly L[] }): Counter<L>;
  histogram<L extends string>(options: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: number[];
  }): Histogram<L>;
}

function seriesIn(registry: Registry): Series {
  const registers = [registry];
  return {
    counter: (options) => new Counter({ ...options, registers }),
    histogram: (options) => new Histogram({ ...options, registers }),
  };
}

// One factory per observer, each declaring its series beside the code that feeds them.

function callMetrics(series: Series): ServerMetrics["onCall"] {
  const calls = series.counter({
    name: "chatbot_calls_total",
    help: "Calls answered, by RPC or HTTP route, protocol (grpc, grpc-web, connect, http) and status code.",
    labelNames: ["method", "protocol", "code"],
  });
  const duration = series.histogram({
    name: "chatbot_call_duration_seconds",
    help: "Call latency to the end of the answer (a stream's last message), by RPC or HTTP route and protocol.",
    labelNames: ["method", "protocol"],
    buckets: CALL_BUCKETS,
  });
  return ({ method, protocol, code, seconds }) => {
    calls.inc({ method, protocol, code });
    duration.observe({ method, protocol }, seconds);
  };
}

function upstreamMetrics(series: Series): UpstreamObserver {
  const requests = series.counter({
    name: "chatbot_upstream_requests_total",
    help:
      "Upstream requests by backend and outcome: ok, aborted (the caller gave up), " +
      "or the failure's kind (timeout, network, http_4xx, http_5xx, malformed, other).",
    labelNames: ["backend", "outcome"],
  });
  const duration = series.histogram({
    name: "chatbot_upstream_request_duration_seconds",
    help: "Upstream request latency, retries included, to the end of the streamed reply, by backend and outcome.",
    labelNames: ["backend", "outcome"],
    buckets: CALL_BUCKETS,
  });
  const retries = series.counter({
    name: "chatbot_upstream_retries_total",
    help: "Upstream attempts retried, by backend and the kind of failure retried.",
    labelNames: ["backend", "outcome"],
  });
  return {
    request: ({ backend, outcome, seconds }) => {
      requests.inc({ backend, outcome });
      duration.observe({ backend, outcome }, seconds);
    },
    retry: ({ backend, outcome }) => retries.inc({ backend, outcome }),
  };
}

function poolMetrics(series: Series): PoolObserver {
  const firstSegment = series.histogram({
    name: "chatbot_first_segment_seconds",
    help: "Time from a streamed chat's start to its first speakable sentence, by backend kind.",
    labelNames: ["kind"],
    buckets: FIRST_SEGMENT_BUCKETS,
  });
  const cooldownRefusals = series.counter({
    name: "chatbot_cooldown_refusals_total",
    help: "Chats refused because their credential was cooling down, by backend kind.",
    labelNames: ["kind"],
  });
  const tokens = series.counter({
    name: "chatbot_tokens_total",
    help: "Tokens of completed turns by backend kind, direction (sent, received) and source (reported by the upstream, or counted here).",
    labelNames: ["kind", "direction", "source"],
  });
  return {
    cooldownRefused: ({ kind }) => cooldownRefusals.inc({ kind }),
    firstSegment: ({ kind, seconds }) => firstSegment.observe({ kind }, seconds),
    tokens: ({ kind, direction, tokens: n, reported }) =>
      tokens.inc({ kind, direction, source: reported ? "upstream" : "counted" }, n),
  };
}

function storeMetrics(series: Series): StoreObserver {
  const duration = series.histogram({
    name: "chatbot_store_operation_duration_seconds",
    help: "Session store operation latency, by operation.",
    labelNames: ["operation"],
    buckets: STORE_BUCKETS,
  });
  const errors = series.counter({
    name: "chatbot_store_errors_total",
    help: "Session store operations that failed, by operation.",
    labelNames: ["operation"],
  });
  return ({ operation, seconds, ok }) => {
    duration.observe({ operation }, seconds);
    if (!ok) errors.inc({ operation });
  };
}

/** `chatbot_sessions`, read at each scrape from where `count()` says (nothing until the program has told). */
function sessionsGauge(registry: Registry, count: () => (() => Promise<number>) | undefined): void {
  new Gauge({
    name: "chatbot_sessions",
    help: "Sessions held in the session store.",
    registers: [registry],
    async collect() {
      const size = count();
      if (size === undefined) return;
      try {
        this.set(await size());
      } catch {
        // The store failed (counted in chatbot_store_errors_total): keep the last value rather than fail the scrape.
      }
    },
  });
}
