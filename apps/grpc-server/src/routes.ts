import type { Logger, SessionPool } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { Health } from "@chatgptchatbot/proto/health";
import type { ConnectRouter } from "@connectrpc/connect";
import { type ChatbotServiceImpl, createChatbotService } from "./chatbot-service.js";
import { createHealthService, type HealthStatus } from "./health.js";
import { registerReflection } from "./reflection.js";

export interface RoutesOptions {
  readonly pool: SessionPool;
  readonly health: HealthStatus;
  /** Serve gRPC server reflection (v1 and v1alpha). */
  readonly reflection: boolean;
  readonly logger?: Logger;
  /** The ChatbotService implementation to serve (default: `createChatbotService({ pool, logger })`). */
  readonly service?: ChatbotServiceImpl;
}

/**
 * Every service of the server on one router: ChatbotService, the standard
 * health service, and reflection when asked. Hand it to `connectNodeAdapter`
 * (see `server.ts`) or to `createRouterTransport` in tests.
 */
export function createRoutes({
  pool,
  health,
  reflection,
  logger,
  service = createChatbotService({ pool, ...(logger === undefined ? {} : { logger }) }),
}: RoutesOptions): (router: ConnectRouter) => void {
  return (router) => {
    router.service(ChatbotService, service);
    router.service(Health, createHealthService(health));
    if (reflection) registerReflection(router, { services: [ChatbotService, Health] });
  };
}
