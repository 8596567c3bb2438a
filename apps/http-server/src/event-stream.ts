/**
 * The HTTP API's streamed reply: Server-Sent Events (the WHATWG
 * `text/event-stream` format) from a chat's parts. `event: sentence` per
 * segment, then `event: done` with the whole reply; each event's data is the
 * text itself, one `data:` line per line of it (an EventSource joins them
 * with "\n"). A failure after the first event cannot change the status any
 * more: it becomes `event: error` with `{"code","message"}` (core's error
 * code and its safe message), and the stream ends.
 */
import { ChatbotError, type ChatStreamPart } from "@chatgptchatbot/core";
import { formatSSE } from "@chatgptchatbot/sse";

export const EVENT_STREAM = "text/event-stream";

/** Whether an Accept header asks for `text/event-stream` (and does not refuse it with q=0). */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((range) => {
    const [type, ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    return type === EVENT_STREAM && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

/** One event: its name, then the data line by line (`formatSSE`, the workspace's one encoder). */
export function sseEvent(name: string, data: string): string {
  return formatSSE(data, { event: name });
}

/** The `error` event for a failure after the first event. */
export function sseError(error: ChatbotError): string {
  return sseEvent("error", JSON.stringify({ code: error.code, message: error.message }));
}

export interface EventStreamOptions {
  /** The chat's parts; the first one already taken (failures before it are answered with a status instead). */
  readonly parts: AsyncIterator<ChatStreamPart, void>;
  readonly first: ChatStreamPart;
  /** Told of a failure after the first event, before its `error` event is sent (for the log). */
  readonly onError?: (error: ChatbotError) => void;
}

/**
 * The response body: each part is written as soon as the chat yields it. A
 * reader that cancels (the client went away) returns the parts' iterator,
 * which aborts the upstream request.
 */
export function chatEventStream({ parts, first, onError }: EventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next: ChatStreamPart | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let part: ChatStreamPart;
      try {
        if (next !== undefined) {
          part = next;
          next = undefined;
        } else {
          const result = await parts.next();
          if (result.done === true) return controller.close();
          part = result.value;
        }
      } catch (thrown) {
        const error = ChatbotError.from(thrown);
        onError?.(error);
        controller.enqueue(encoder.encode(sseError(error)));
        return controller.close();
      }
      if (part.type === "sentence") return controller.enqueue(encoder.encode(sseEvent("sentence", part.text)));
      controller.enqueue(encoder.encode(sseEvent("done", part.reply)));
      controller.close();
      // `done` is the last part: let the chat's generator finish now rather than wait for a read that never comes.
      await parts.return?.();
    },
    async cancel() {
      await parts.return?.();
    },
  });
}
