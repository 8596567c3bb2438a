/**
 * A TCP forwarder on 127.0.0.1 in front of `target` that counts the
 * connections clients open: keep-alive reuse shows as one connection for
 * many requests.
 */
export async function startConnectionCounter(
  target: string,
): Promise<{ origin: string; connections: () => number; close(): Promise<void> }> {
  const { createServer, connect } = await import("node:net");
  const { hostname, port } = new URL(target);
  let count = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((client) => {
    count++;
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${address.port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A hand-written HTTP server on 127.0.0.1 for replies the fakes do not play; counts connections. */
export async function startScriptedServer(
  handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void,
): Promise<{ origin: string; connections: () => number; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  let count = 0;
  const server = createServer(handler);
  server.on("connection", () => count++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
