import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A server listening on 127.0.0.1. */
export interface LoopbackListener {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  readonly port: number;
  /** Stops listening and drops every open connection (a load client's keep-alive sockets would hold it open). */
  close(): Promise<void>;
}

/**
 * Binds a bench server to 127.0.0.1 (`port` 0: the OS picks), with keep-alive
 * sockets kept a minute so the load never pays for new connections; rejects
 * when the port is taken.
 */
export async function listenOnLoopback({ server, port }: { server: Server; port: number }): Promise<LoopbackListener> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
