import { type Logger, type SessionPool, shortId, silentLogger } from "@chatgptchatbot/core";
import type { ChatbotService } from "@chatgptchatbot/proto";
import type { ServiceImpl } from "@connectrpc/connect";

export interface ChatbotServiceOptions {
  /** The session pool, shared with every other transport of the process. */
  readonly pool: SessionPool;
  /** Prompts and replies are logged here at debug level only. */
  readonly logger?: Logger;
}

/**
 * `muvtuber.chatbot.v2.ChatbotService` over a session pool. Each method is a
 * thin call into the pool with the call's AbortSignal (a client deadline or
 * cancel aborts the upstream request). Errors are thrown as they are: the
 * error interceptor (see `errors.ts`) translates them, in one place.
 */
export function createChatbotService({
  pool,
  logger = silentLogger,
}: ChatbotServiceOptions): ServiceImpl<typeof ChatbotService> {
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

    async deleteSession({ sessionId }) {
      await pool.delete(sessionId);
      return { sessionId };
    },
  };
}
