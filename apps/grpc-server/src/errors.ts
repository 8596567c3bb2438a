/**
 * The one place where errors become gRPC / Connect statuses. Everything a
 * handler throws passes through {@link toConnectError}: a ChatbotError keeps
 * its safe message and takes its code from core's `errorStatus` table;
 * anything unforeseen becomes INTERNAL with a generic message (the original
 * kept as `cause` for the logs), so no client ever sees UNKNOWN or a stack.
 */
import { ChatbotError, MAX_ERROR_MESSAGE_CHARS } from "@chatgptchatbot/core";
import { Code, ConnectError } from "@connectrpc/connect";
import { retryInfo } from "./retry-info.js";

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
  const code = chatbot.status.grpc as number as Code;
  // A cooldown (or an upstream rate limit) says how long to wait: in the
  // message, and as the standard google.rpc.RetryInfo detail.
  const details = chatbot.retryAfterMs === undefined ? [] : [retryInfo(chatbot.retryAfterMs)];
  return new ConnectError(chatbot.message, code, undefined, details, chatbot);
}
