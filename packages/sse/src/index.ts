/**
 * @chatgptchatbot/sse: server-sent events both ways, in one place. The
 * backends (chatgpt-client) decode upstream replies with {@link SSEDecoder};
 * the fake upstreams (testkit) encode theirs with {@link formatSSE}, as the
 * HTTP API (http-server) does its streamed replies, and testkit's tests
 * decode them with the same decoder. A package of its own
 * because testkit cannot import chatgpt-client (whose tests use testkit), and
 * core carries no transport.
 */

export type { ServerSentEvent } from "./sse-decoder.js";
export { parseServerSentEvents, readServerSentEventBatches, readServerSentEvents, SSEDecoder } from "./sse-decoder.js";
export { formatSSE, SSE_DONE } from "./sse-encoder.js";
