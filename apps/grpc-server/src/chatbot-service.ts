import { type Logger, type SessionPool, shortId, silentLogger } from "@chatgptchatbot/core";
import type { ChatbotService } from "@chatgptchatbot/proto";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";

export interface ChatbotServiceOptions {
  /** The session pool, shared with every other transport of the process. */
  readonly pool: SessionPool;
  /** Prompts and replies are logged here at debug level only. */
  readonly logger?: Logger;
}

/** What the service's methods use of a call's context: only its signal, so a handler of our own can call them too. */
export type CallContext = Pick<HandlerContext, "signal">;

/** Connect's implementation type of a service, each method taking only a {@link CallContext}. */
type WithCallContext<S> = {
  [K in keyof S]: S[K] extends (request: infer Request, context: HandlerContext) => infer Answer
    ? (request: Request, context: CallContext) => Answer
    : never;
};

/** `muvtuber.chatbot.v2.ChatbotService` as {@link createChatbotService} builds it; usable wherever connect's ServiceImpl is. */
export type ChatbotServiceImpl = WithCallContext<ServiceImpl<typeof ChatbotService>>;

/**
 * `muvtuber.chatbot.v2.ChatbotService` over a session pool. Each method is a
 * thin call into the pool with the call's AbortSignal (a client deadline or
 * cancel aborts the upstream request); `chatStream` sends the pool's parts
 * one message each. Errors are thrown as they are, also mid-stream: the
 * error interceptor (see `errors.ts`) translates them, in one place, and the
 * native gRPC path (`native-grpc.ts`) through the same function.
 */
export function createChatbotService({ pool, logger = silentLogger }: ChatbotServiceOptions): ChatbotServiceImpl {
  return {
    async newSession({ config, initialPrompt }, { signal }) {
      logger.debug({ initialPrompt }, "NewSession initial prompt");
      const { sessionId, initialResponse } = await pool.create({ config, initialPrompt, signal });
      logger.debug({ session: shortId(sessionId), initialResponse }, "NewSession initial response");
      return { sessionId, initialResponse };
    },

    async chat({ sessionId, prompt }, { signal }) {
      logger.debug({ session: shortId(sessionId), prompt }, "Chat prompt");
      const response = await pool.chat({ sessionId, prompt, signal });
      logger.debug({ session: shortId(sessionId), response }, "Chat response");
      return { response };
    },

    // One message per sentence as soon as the pool yields it (connect-node writes each message out at once),
    // then the whole reply. Errors thrown here, before or after the first message, go through the same
    // interceptor as Chat's; the call's signal (client cancel, deadline) aborts the upstream request.
    async *chatStream({ sessionId, prompt }, { signal }) {
      logger.debug({ session: shortId(sessionId), prompt }, "ChatStream prompt");
      for await (const part of pool.chatStream({ sessionId, prompt, signal })) {
        if (part.type === "sentence") {
          yield { sentence: part.text };
        } else {
          logger.debug({ session: shortId(sessionId), response: part.reply }, "ChatStream response");
          yield { response: part.reply };
        }
      }
    },

    async deleteSession({ sessionId }) {
      await pool.delete(sessionId);
      return { sessionId };
    },
  };
}
