import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { connect, createServer as createHttp2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { playgroundAssetsDir } from "./assets-dir.js";
import {
  createPlaygroundFallback,
  createPlaygroundHandler,
  type PlaygroundHandlerOptions,
} from "./playground-handler.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let assetsDir: string;
let server: Server | undefined;
/** Requests the handler passed on, by path. */
let passed: string[] = [];

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), "playground-test-"));
  assetsDir = join(root, "assets");
  mkdirSync(join(assetsDir, "sub"), { recursive: true });
  writeFileSync(join(assetsDir, "index.html"), '<!doctype html><script type="module" src="app.js"></script>');
  writeFileSync(join(assetsDir, "app.js"), "console.log('app');");
  writeFileSync(join(assetsDir, "styles.css"), "body{margin:0}");
  writeFileSync(join(assetsDir, "notes.env"), "SECRET=1");
  writeFileSync(join(assetsDir, "sub", "inner.js"), "inner");
  writeFileSync(join(root, "outside.js"), "outside");
  return () => rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
  passed = [];
});

/** A node:http server that asks the handler first and answers 404 itself for what it passes on. */
async function serve(options: PlaygroundHandlerOptions = {}): Promise<number> {
  const handler = createPlaygroundHandler({ assetsDir, ...options });
  server = createServer((req, res) => {
    const handled = handler(req, res, () => passed.push(req.url ?? ""));
    if (!handled) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("fallback 404");
    }
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A raw request: the path goes out exactly as written (fetch would normalize "..") */
function get(
  port: number,
  path: string,
  { method = "GET", headers = {} }: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("createPlaygroundHandler", () => {
  it("serves the page at / and its assets with their content types and caching headers", async () => {
    const port = await serve();
    const page = await get(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain('src="app.js"');
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["content-security-policy"]).toContain("connect-src 'self' http: https:");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");

    expect((await get(port, "/index.html")).body).toBe(page.body);
    const script = await get(port, "/app.js?v=1");
    expect([script.status, script.headers["content-type"], script.body]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "console.log('app');",
    ]);
    const css = await get(port, "/styles.css");
    expect([css.status, css.headers["content-type"]]).toEqual([200, "text/css; charset=utf-8"]);
    expect(passed).toEqual([]);
  });

  it("answers a matching If-None-Match with 304 and HEAD without a body", async () => {
    const port = await serve();
    const first = await get(port, "/app.js");
    const etag = String(first.headers.etag);
    const again = await get(port, "/app.js", { headers: { "if-none-match": `W/${etag}` } });
    expect([again.status, again.body]).toEqual([304, ""]);
    expect((await get(port, "/app.js", { headers: { "if-none-match": '"other"' } })).status).toBe(200);

    const head = await get(port, "/app.js", { method: "HEAD" });
    expect([head.status, head.body, head.headers["content-length"]]).toEqual([200, "", String(first.body.length)]);
  });

  it("refuses other methods on its paths with 405", async () => {
    const port = await serve();
    const post = await get(port, "/", { method: "POST" });
    expect([post.status, post.headers.allow]).toEqual([405, "GET, HEAD"]);
  });

  it("passes on every path it does not own, traversal attempts included", async () => {
    const port = await serve();
    const paths = [
      "/muvtuber.chatbot.v2.ChatbotService/Chat",
      "/../outside.js",
      "/%2e%2e/outside.js",
      "/..%2foutside.js",
      "/sub/inner.js",
      "/sub%2finner.js",
      "/notes.env",
      "/%E0%A4%A",
      "/app.js/",
      "//app.js",
    ];
    for (const path of paths) {
      const answer = await get(port, path);
      expect([path, answer.status, answer.body]).toEqual([path, 404, "fallback 404"]);
    }
    expect(passed).toEqual(paths);
  });

  it("serves under a base path, redirecting the bare prefix to its slash form", async () => {
    const port = await serve({ basePath: "/playground" });
    const bare = await get(port, "/playground?x=1");
    expect([bare.status, bare.headers.location]).toEqual([308, "/playground/?x=1"]);
    expect((await get(port, "/playground/")).status).toBe(200);
    expect((await get(port, "/playground/app.js")).body).toBe("console.log('app');");
    expect((await get(port, "/")).status).toBe(404);
    expect((await get(port, "/app.js")).status).toBe(404);
  });

  it("refuses a base path that is not an absolute path", () => {
    expect(() => createPlaygroundHandler({ assetsDir, basePath: "playground" })).toThrow(TypeError);
    expect(() => createPlaygroundHandler({ assetsDir, basePath: "/a/../b" })).toThrow(TypeError);
  });

  it("says how to build when the assets are missing", () => {
    expect(() => createPlaygroundHandler({ assetsDir: join(assetsDir, "missing") })).toThrow(/not built/);
    expect(() => createPlaygroundHandler({ assetsDir: join(assetsDir, "sub") })).toThrow(/no index\.html/);
  });

  it("as a fallback, answers 404 for every path it does not own", async () => {
    // It fits connect-node's fallback option (the gRPC server's hook) as it is.
    const fallback: NonNullable<ConnectNodeAdapterOptions["fallback"]> = createPlaygroundFallback({ assetsDir });
    server = createServer(fallback);
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    expect((await get(port, "/app.js")).status).toBe(200);
    const missing = await get(port, "/../outside.js");
    expect([missing.status, missing.body]).toEqual([404, "not found\n"]);
    expect((await get(port, "/nothing", { method: "HEAD" })).body).toBe("");
  });

  it("works with a node:http2 server (the gRPC server's kind)", async () => {
    const handler = createPlaygroundHandler({ assetsDir });
    const h2: Http2Server = createHttp2Server((req, res) => {
      if (!handler(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
    const session = connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
    try {
      const answer = await new Promise<{ status: number; type: string | undefined; body: string }>(
        (resolve, reject) => {
          const stream = session.request({ ":path": "/app.js" });
          let status = 0;
          let type: string | undefined;
          const chunks: Buffer[] = [];
          stream.on("response", (headers) => {
            status = Number(headers[":status"]);
            type = headers["content-type"];
          });
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("end", () => resolve({ status, type, body: Buffer.concat(chunks).toString("utf8") }));
          stream.on("error", reject);
          stream.end();
        },
      );
      expect(answer).toEqual({ status: 200, type: "text/javascript; charset=utf-8", body: "console.log('app');" });
    } finally {
      session.close();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });
});

describe("the built page", () => {
  it("has index.html referencing the bundled script and styles, which exist", () => {
    const html = readFileSync(join(playgroundAssetsDir, "index.html"), "utf8");
    expect(html).toContain('src="app.js"');
    expect(html).toContain('href="styles.css"');
    const script = readFileSync(join(playgroundAssetsDir, "app.js"), "utf8");
    // The bundle carries both protocols (booleans: a failing toContain would print the whole bundle).
    expect(script.includes("application/grpc-web")).toBe(true);
    expect(script.includes("Connect-Protocol-Version")).toBe(true);
    expect(readFileSync(join(playgroundAssetsDir, "styles.css"), "utf8").length).toBeGreaterThan(0);
  });

  it("keeps password managers off the credential field (no autofill, nothing to save)", () => {
    const html = readFileSync(join(playgroundAssetsDir, "index.html"), "utf8");
    const input = /<input\s[^>]*id="credential"[^>]*>/.exec(html)?.[0] ?? "";
    expect(input).toContain('type="password"');
    expect(input).toContain('autocomplete="new-password"');
  });

  it("never touches web storage or cookies", () => {
    const script = readFileSync(join(playgroundAssetsDir, "app.js"), "utf8");
    expect(/localStorage|sessionStorage|document\.cookie|indexedDB/.exec(script)?.[0]).toBeUndefined();
  });
});
