import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { drainBeforeClose } from "@chatgptchatbot/node-http";
import { createAdaptorServer } from "@hono/node-server";
import { type CreateHttpAppOptions, createHttpApp } from "./app.js";

/** Anything with a fetch handler: the app {@link createHttpApp} builds, or any Hono app. */
export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

export type StartHttpServerOptions = (
  | {
      /** An app built beforehand (with {@link createHttpApp}). */
      readonly app: FetchApp;
    }
  | CreateHttpAppOptions
) & {
  /** Interface to bind (default "localhost", as the old service). */
  readonly host?: string;
  /** Port to bind (default 9006; 0: one the OS picks). */
  readonly port?: number;
};

export interface CloseOptions {
  /** How long in-flight requests may take before their connections are cut (default 10 s). */
  readonly timeoutMs?: number;
}

export interface RunningHttpServer {
  /** Where it listens, e.g. "http://127.0.0.1:9006" (IPv6 hosts in brackets). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The node:http server, for callers that need its events. */
  readonly server: Server;
  /**
   * Stops gracefully: stops accepting connections, closes idle keep-alive
   * ones at once, lets in-flight requests finish within `timeoutMs`, then cuts
   * what is left (their clients' requests are aborted, and so their upstream
   * calls). Idempotent. A bare number is taken as `timeoutMs`.
   */
  close(options?: CloseOptions | number): Promise<void>;
}

export const DEFAULT_HTTP_HOST = "localhost";
export const DEFAULT_HTTP_PORT = 9006;
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Binds the HTTP API with `@hono/node-server` and resolves once it listens.
 *
 * @throws the listen error (EADDRINUSE, EACCES…).
 */
export async function startHttpServer(options: StartHttpServerOptions): Promise<RunningHttpServer> {
  const { host = DEFAULT_HTTP_HOST, port = DEFAULT_HTTP_PORT } = options;
  const app = "app" in options ? options.app : createHttpApp(options);
  // No global Request/Response override: this server may share its process with others.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  // A 413 answered before the body was read: the connection reads the rest before it closes, so the client gets it.
  drainBeforeClose(server);

  // Once closing, answers say Connection: close, so keep-alive clients let go.
  let closing = false;
  const inflight = new Set<ServerResponse>();
  server.on("request", (_req, res: ServerResponse) => {
    if (closing) res.shouldKeepAlive = false;
    inflight.add(res);
    res.once("close", () => inflight.delete(res));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    server,
    close(closeOptions = {}) {
      const { timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS } =
        typeof closeOptions === "number" ? { timeoutMs: closeOptions } : closeOptions;
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        for (const res of inflight) if (!res.headersSent) res.shouldKeepAlive = false;
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
        timer.unref();
        server.close((error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
