/**
 * @chatgptchatbot/node-http: what both HTTP transports (apps/grpc-server's one
 * port and apps/http-server's API) need of node:http that no library does.
 */
export {
  DEFAULT_DRAIN_BYTES,
  DEFAULT_DRAIN_MS,
  type DrainBeforeCloseOptions,
  drainBeforeClose,
} from "./drain-before-close.js";
