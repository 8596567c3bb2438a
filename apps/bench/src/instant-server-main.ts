/**
 * Child process: the server with its backend swapped for one that answers at
 * once, in-process, with the fast upstream's reply. Everything else is the
 * real program's composition (see apps/server's run.ts): the same pino
 * logger, one pool from the same configuration, the gRPC server and the HTTP
 * app. Its CPU per chat is what the transports and the pool cost; the full
 * server's minus this is what the backend costs.
 */
import type { Backend } from "@chatgptchatbot/core";
import { createGrpcServer } from "@chatgptchatbot/grpc-server";
import { createHttpApp, startHttpServer } from "@chatgptchatbot/http-server";
import { createLogger, createPoolFromConfig, readConfig } from "@chatgptchatbot/server";
import { onParentMessage, sendToParent } from "./child-process.js";
import { DEFAULT_REPLY } from "./fast-upstream.js";

const config = readConfig(process.env);
const logger = createLogger({ level: config.logLevel });
const instant: Backend = {
  initialPrompt: "system",
  async *ask() {
    yield { type: "text", text: DEFAULT_REPLY };
    yield { type: "finish" };
  },
};
const pool = createPoolFromConfig({ config, backends: () => instant, logger });
const grpc = createGrpcServer({ pool, logger, corsOrigins: config.corsOrigins, reflection: config.grpcReflection });
const { port: grpcPort } = await grpc.listen({ host: "127.0.0.1", port: 0 });
const http = await startHttpServer({
  app: createHttpApp({ pool, logger, bodyLimitBytes: config.httpBodyLimitBytes }),
  host: "127.0.0.1",
  port: 0,
});
onParentMessage(
  () => {},
  async () => {
    await Promise.all([grpc.close({ timeoutMs: 1000 }), http.close({ timeoutMs: 1000 })]);
    await pool.close();
  },
);
sendToParent({ type: "ready", grpcAddress: `127.0.0.1:${grpcPort}`, httpOrigin: http.url });
