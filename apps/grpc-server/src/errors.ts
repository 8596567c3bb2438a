/**
 * The one place where errors become gRPC / Connect statuses. Everything a
 * handler throws passes through {@link toConnectError}: a ChatbotError keeps
 * its safe message and takes its code from {@link GRPC_CODES}, this
 * transport's own table; anything unforeseen becomes INTERNAL with a generic
 * message (the original kept as `cause` for the logs), so no client ever sees
 * UNKNOWN or a stack.
 */
import { ChatbotError, ErrorCode, MAX_ERROR_MESSAGE_CHARS } from "@chatgptchatbot/core";
import { Code, ConnectError } from "@connectrpc/connect";
import { retryInfo } from "./retry-info.js";

/**
 * Core's error codes as gRPC statuses. Typed by core's `ErrorCode`, so a new
 * code does not compile until it has a status here.
 */
export const GRPC_CODES: Readonly<Record<ErrorCode, Code>> = {
  [ErrorCode.InvalidArgument]: Code.InvalidArgument,
  [ErrorCode.TooManySessions]: Code.ResourceExhausted,
  [ErrorCode.SessionNotFound]: Code.NotFound,
  [ErrorCode.Cooldown]: Code.ResourceExhausted,
  // The upstream failing is the service being unavailable for now: clients retry UNAVAILABLE.
  [ErrorCode.Upstream]: Code.Unavailable,
  [ErrorCode.Unavailable]: Code.Unavailable,
  [ErrorCode.Aborted]: Code.Canceled,
  [ErrorCode.Internal]: Code.Internal,
};

/** Turns anything thrown by a handler into the ConnectError sent to the client. */
export function toConnectError(error: unknown): ConnectError {
  // Raised by Connect itself (deadline, malformed request, unimplemented…) or already translated.
  if (error instanceof ConnectError) {
    if (error.rawMessage.length <= MAX_ERROR_MESSAGE_CHARS) return error;
    // The status message travels in metadata: cut one that grew with its input (ChatbotErrors are cut at birth).
    const message = `${error.rawMessage.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
    const cut = new ConnectError(message, error.code, error.metadata, undefined, error.cause);
    cut.details.push(...error.details);
    return cut;
  }
  const chatbot = ChatbotError.from(error);
  // A cooldown (or an upstream rate limit) says how long to wait: in the
  // message, and as the standard google.rpc.RetryInfo detail.
  const details = chatbot.retryAfterMs === undefined ? [] : [retryInfo(chatbot.retryAfterMs)];
  return new ConnectError(chatbot.message, GRPC_CODES[chatbot.code], undefined, details, chatbot);
}
