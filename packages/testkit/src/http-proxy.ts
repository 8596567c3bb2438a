import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { startLocalServer } from "./local-server.js";

export interface HttpProxy {
  /** "http://127.0.0.1:PORT", for `HTTP_PROXY` or an agent's proxy option. */
  url: string;
  /** Every request, in arrival order, refused ones included: absolute URL, or "host:port" for CONNECT. */
  requests: { method: string; target: string }[];
  close(): Promise<void>;
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "::1"]);

/** Whether `hostname` (as `URL.hostname` gives it, IPv6 in brackets) is a loopback host we may reach. */
export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1"));
}

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** `headers` without hop-by-hop headers (including those `Connection` names). */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase()),
  );
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name) && !named.has(name)));
}

/**
 * Starts a forward HTTP proxy on 127.0.0.1 that only reaches loopback: absolute-form
 * requests (`GET http://127.0.0.1:PORT/path`) are forwarded, `CONNECT host:port` opens a
 * tunnel, and any other host is refused with 403 before anything is connected, so a test
 * can never send traffic off the machine. Unreachable targets answer 502.
 */
export async function startHttpProxy(): Promise<HttpProxy> {
  const requests: HttpProxy["requests"] = [];
  const server = await startLocalServer({
    handler(req, res) {
      const target = req.url ?? "";
      requests.push({ method: req.method ?? "GET", target });
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        req.resume();
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
        res.end(`proxy expects an absolute-form request target (GET http://host/path), got ${target}`);
        return;
      }
      if (url.protocol !== "http:") {
        req.resume();
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
        res.end(`proxy forwards http: only (use CONNECT for ${url.protocol})`);
        return;
      }
      if (!isLoopbackHost(url.hostname)) {
        req.resume();
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
        res.end(`proxy refuses non-loopback target ${url.hostname}`);
        return;
      }
      const upstream = httpRequest({
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port === "" ? 80 : Number(url.port),
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: endToEnd(req.headers),
        agent: false,
      });
      upstream.on("socket", server.track);
      upstream.on("response", (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEnd(upstreamRes.headers));
        upstreamRes.pipe(res);
        upstreamRes.on("error", () => res.destroy());
      });
      upstream.on("error", (error) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
        res.end(`proxy could not reach ${url.host}: ${error.message}`);
      });
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    },
  });

  server.server.on("connect", (req, clientSocket, head) => {
    const target = req.url ?? "";
    requests.push({ method: "CONNECT", target });
    clientSocket.on("error", () => {});
    const refuse = (status: string, reason: string) => {
      clientSocket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(reason)}\r\nconnection: close\r\n\r\n${reason}`,
      );
    };
    let url: URL;
    try {
      url = new URL(`http://${target}`);
    } catch {
      refuse("400 Bad Request", `CONNECT needs host:port, got ${target}`);
      return;
    }
    if (url.port === "" || url.pathname !== "/" || url.username !== "") {
      refuse("400 Bad Request", `CONNECT needs host:port, got ${target}`);
      return;
    }
    if (!isLoopbackHost(url.hostname)) {
      refuse("403 Forbidden", `proxy refuses non-loopback target ${url.hostname}`);
      return;
    }
    const upstream = connect({ host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port) });
    server.track(upstream);
    let established = false;
    upstream.once("connect", () => {
      established = true;
      clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on("error", (error) => {
      if (!established) refuse("502 Bad Gateway", `proxy could not reach ${target}: ${error.message}`);
    });
    clientSocket.on("close", () => upstream.destroy());
    upstream.on("close", () => {
      if (established) clientSocket.destroy();
    });
  });

  return { url: server.origin, requests, close: () => server.close() };
}
