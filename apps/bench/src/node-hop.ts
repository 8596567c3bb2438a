/**
 * The "bare Node hop" reference: a node:http server that forwards each
 * request, unchanged, to the upstream with undici's `request` over one
 * keep-alive Pool, and streams the answer back. Nothing else: no parsing, no
 * sessions, no logging. What the server costs beyond this is the price of
 * being a chatbot server rather than a proxy.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { Pool } from "undici";
import { listenOnLoopback } from "./loopback-listen.js";

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
  const listener = await listenOnLoopback({ server, port });
  return {
    origin: listener.origin,
    port: listener.port,
    async close() {
      await listener.close();
      await pool.close();
    },
  };
}
