/**
 * Server-sent events for the fakes and their tests, through the workspace's
 * one decoder and encoder (@chatgptchatbot/sse): the fakes frame events with
 * {@link formatSSE}; tests read the data payloads back with {@link parseSSE}
 * (a whole body) or {@link readSSE} (as it streams).
 */
import { parseServerSentEvents, readServerSentEvents } from "@chatgptchatbot/sse";

export { formatSSE, SSE_DONE } from "@chatgptchatbot/sse";

/**
 * The data payloads of a whole event stream, in order (`[DONE]` included). A
 * last event not terminated by a blank line (a cut stream) is left out, as a browser would.
 */
export function parseSSE(text: string): string[] {
  return parseServerSentEvents(text).map(({ data }) => data);
}

/**
 * Yields the data payloads of an event stream as its events complete, e.g.
 * `for await (const data of readSSE(response.body!))`. Rejects if the stream
 * errors (a cut connection).
 */
export async function* readSSE(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const { data } of readServerSentEvents(body)) yield data;
}
