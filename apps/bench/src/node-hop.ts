/**
 * The "bare Node hop" reference: a node:http server that forwards each
 * request, unchanged, to the upstream with undici's `request` over one
 * keep-alive Pool, and streams the answer back. Nothing else: no parsing, no
 * sessions, no logging. What the server costs beyond this is the price of
 * being a chatbot server rather than a proxy.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

export interface NodeHopOptions {
  /** The upstream origin, e.g. "http://127.0.0.1:PORT". */
  readonly upstream: string;
  /** Port on 127.0.0.1 (default 0: the OS picks). */
  readonly port?: number;
  /** Keep-alive connections to the upstream (default 128). */
  readonly connections?: number;
}

export interface NodeHop {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Request headers that describe one hop's connection, not the message. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "host", "transfer-encoding", "proxy-connection", "upgrade"]);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export async function startNodeHop({ upstream, port = 0, connections = 128 }: NodeHopOptions): Promise<NodeHop> {
  const pool = new Pool(upstream, { connections, keepAliveTimeout: 60_000 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      pool
        .request({
          path: req.url ?? "/",
          method: req.method === "POST" ? "POST" : "GET",
          headers: forwardedHeaders(req.headers),
          body: chunks.length === 0 ? null : Buffer.concat(chunks),
        })
        .then(async (answer) => {
          const headers: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
          }
          res.writeHead(answer.statusCode, headers);
          for await (const chunk of answer.body) res.write(chunk);
          res.end();
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
    });
  });
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
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
