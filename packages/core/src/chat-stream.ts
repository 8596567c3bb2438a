/**
 * What `SessionPool.chatStream` yields: the reply sentence by sentence, ready
 * for speech as each one completes, then the whole reply. Transports map it
 * one to one (gRPC `ChatStreamResponse.sentence` / `.response`, SSE
 * `event: sentence` / `event: done`).
 */
export type ChatStreamPart =
  /**
   * One speakable segment (see `Segmenter`), cleaned for speech when the
   * session filters (`filterSegment`); never empty. Reasoning is never in one.
   */
  | { readonly type: "sentence"; readonly text: string }
  /** The last part: the whole reply, exactly what `SessionPool.chat` returns for it. */
  | { readonly type: "done"; readonly reply: string };

/** The segmenter settings a pool applies to every streamed reply (the filter is the session's). */
export interface SegmentOptions {
  /** Width from which the first segment may end at a clause mark (default `DEFAULT_FIRST_SEGMENT_MIN_LENGTH`). */
  readonly firstMinLength?: number;
  /** Width beyond which a segment is cut at its last clause mark or space (default `DEFAULT_MAX_SEGMENT_LENGTH`). */
  readonly maxLength?: number;
}
