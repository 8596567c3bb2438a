/**
 * The one place where errors become gRPC / Connect statuses. Everything a
 * handler throws passes through {@link toConnectError}: a ChatbotError keeps
 * its safe message and takes its code from core's `errorStatus` table;
 * anything unforeseen becomes INTERNAL with a generic message (the original
 * kept as `cause` for the logs), so no client ever sees UNKNOWN or a stack.
 */
import { ChatbotError } from "@chatgptchatbot/core";
import { Code, ConnectError } from "@connectrpc/connect";
import { retryInfo } from "./retry-info.js";

/** Turns anything thrown by a handler into the ConnectError sent to the client. */
export function toConnectError(error: unknown): ConnectError {
  // Raised by Connect itself (deadline, malformed request, unimplemented…) or already translated.
  if (error instanceof ConnectError) return error;
  const chatbot = ChatbotError.from(error);
  const code = chatbot.status.grpc as number as Code;
  // A cooldown (or an upstream rate limit) says how long to wait: in the
  // message, and as the standard google.rpc.RetryInfo detail.
  const details = chatbot.retryAfterMs === undefined ? [] : [retryInfo(chatbot.retryAfterMs)];
  return new ConnectError(chatbot.message, code, undefined, details, chatbot);
}
