import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

/**
 * A request handler for node:http and node:http2 servers alike, as
 * `connectNodeAdapter` returns and takes (connect-node does not export the
 * name from its index).
 */
export type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
