import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

/** A node:http server bound to 127.0.0.1 on a port the OS picked. */
export interface LocalServer {
  server: Server;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  port: number;
  /** Destroys this socket too when the server closes (e.g. a proxy's upstream connection). */
  track(socket: Duplex): void;
  /** Stops listening and destroys every open connection, so it never waits on a client. */
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1:0. A handler that throws answers 500 (or drops the connection). */
export async function startLocalServer({
  handler,
}: {
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}): Promise<LocalServer> {
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((req, res) => {
    res.on("error", () => {});
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        if (res.headersSent || res.destroyed) {
          res.destroy();
          return;
        }
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`fake upstream failed: ${error instanceof Error ? error.message : String(error)}`);
      });
  });
  server.on("connection", track);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    port,
    track,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
