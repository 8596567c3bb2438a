/**
 * @chatgptchatbot/playground: the browser playground for ChatbotService.
 * The page (bundled at build time into {@link playgroundAssetsDir}) talks
 * Connect or gRPC-web through `@connectrpc/connect-web`;
 * {@link createPlaygroundHandler} serves it from any node:http or node:http2
 * server, for example as the gRPC server's fallback handler.
 */

export { playgroundAssetsDir } from "./assets-dir.js";
export type {
  PlaygroundHandler,
  PlaygroundHandlerOptions,
  PlaygroundRequest,
  PlaygroundResponse,
} from "./playground-handler.js";
export { createPlaygroundFallback, createPlaygroundHandler } from "./playground-handler.js";
