/**
 * A TCP gate in front of a fake upstream, on a port of its own: open, it
 * forwards every connection; shut, nothing listens on its port, so a client
 * sees the connection refused (ECONNREFUSED) as it would with a stopped
 * upstream. Reopening listens on the same port again, so a session whose
 * base URL names the gate works again afterwards.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface UpstreamGate {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  /** Stops listening and drops every open connection. */
  shut(): Promise<void>;
  /** Listens on the same port again. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export async function startUpstreamGate({ target }: { target: string }): Promise<UpstreamGate> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = (port: number): Promise<number> => {
    const next = createServer((client) => {
      const upstream = createConnection({ host: hostname, port: Number(targetPort) });
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    server = next;
    return new Promise((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve((next.address() as { port: number }).port));
    });
  };
  const shut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current !== undefined) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  const port = await listen(0);
  return {
    origin: `http://127.0.0.1:${port}`,
    shut,
    async reopen() {
      if (server === undefined) await listen(port);
    },
    close: shut,
  };
}
