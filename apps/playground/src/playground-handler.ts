import { createHash } from "node:crypto";
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { extname, join } from "node:path";
import { playgroundAssetsDir } from "./assets-dir.js";

export interface PlaygroundHandlerOptions {
  /** URL path the page is served under (default "/"): "/playground" serves "/playground/", "/playground/app.js"... */
  readonly basePath?: string;
  /** Where the bundled page is (default {@link playgroundAssetsDir}). */
  readonly assetsDir?: string;
}

/** The part of an http or http2 request the handler reads. */
export interface PlaygroundRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** The part of an http or http2 response the handler writes. */
export interface PlaygroundResponse {
  writeHead(statusCode: number, headers: Record<string, string>): unknown;
  end(): unknown;
  end(chunk: Uint8Array): unknown;
}

/**
 * Serves the playground for the requests whose path it owns and returns
 * true; returns false (after calling `next`, when given) for every other
 * path, leaving the response untouched.
 */
export type PlaygroundHandler = (req: PlaygroundRequest, res: PlaygroundResponse, next?: () => void) => boolean;

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The page may call any server the user names (the cross-origin case), so
 * `connect-src` is open to http(s); everything else comes from this origin.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": CONTENT_SECURITY_POLICY,
};

/**
 * Builds the request handler that serves the bundled playground page. The
 * assets are read once, now, into memory (they are small); only the files
 * the build wrote are ever served, by exact name, so no path can reach
 * outside the assets directory. Every answer carries an ETag and
 * `Cache-Control: no-cache` (the names carry no content hash, so browsers
 * revalidate, and get a 304 while nothing changed).
 *
 * @throws Error when the assets are missing (the package was not built).
 */
export function createPlaygroundHandler({
  basePath = "/",
  assetsDir = playgroundAssetsDir,
}: PlaygroundHandlerOptions = {}): PlaygroundHandler {
  const base = normalizeBasePath(basePath);
  const assets = loadAssets(assetsDir);
  const index = assets.get("index.html");
  if (index === undefined) {
    throw new Error(
      `the playground is not built: no index.html in ${assetsDir} (run \`pnpm --filter @chatgptchatbot/playground build\`)`,
    );
  }
  const bareBase = base.slice(0, -1);

  return (req, res, next) => {
    const path = requestPath(req.url);
    if (path === undefined) return pass(next);
    if (bareBase !== "" && path === bareBase) {
      // Without the slash the page's relative asset URLs would miss the prefix.
      answer(req, res, 308, { location: `${base}${queryOf(req.url)}` });
      return true;
    }
    if (!path.startsWith(base)) return pass(next);
    const name = path.slice(base.length);
    const asset = name === "" ? index : assets.get(name);
    if (asset === undefined) return pass(next);

    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(req, res, 405, { allow: "GET, HEAD" }, Buffer.from("method not allowed\n"));
      return true;
    }
    const headers = {
      "content-type": asset.contentType,
      "cache-control": "no-cache",
      etag: asset.etag,
      ...SECURITY_HEADERS,
    };
    if (etagMatches(req.headers["if-none-match"], asset.etag)) {
      answer(req, res, 304, headers);
      return true;
    }
    answer(req, res, 200, { ...headers, "content-length": String(asset.body.length) }, asset.body);
    return true;
  };
}

/**
 * The playground as a complete request handler, for a server's "everything
 * that is no RPC" hook (the gRPC server's `fallback` option): the page's
 * paths are served, every other request is answered 404.
 *
 * @throws Error when the assets are missing (the package was not built).
 */
export function createPlaygroundFallback(
  options: PlaygroundHandlerOptions = {},
): (req: PlaygroundRequest, res: PlaygroundResponse) => void {
  const handler = createPlaygroundHandler(options);
  return (req, res) => {
    if (handler(req, res)) return;
    answer(
      req,
      res,
      404,
      { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
      Buffer.from("not found\n"),
    );
  };
}

function pass(next: (() => void) | undefined): false {
  next?.();
  return false;
}

function answer(
  req: PlaygroundRequest,
  res: PlaygroundResponse,
  status: number,
  headers: Record<string, string>,
  body?: Buffer,
): void {
  res.writeHead(status, headers);
  if (body === undefined || req.method === "HEAD" || status === 304) res.end();
  else res.end(body);
}

/** "/", "/playground" or "/playground/" → "/" or "/playground/". */
function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.trim();
  if (
    !trimmed.startsWith("/") ||
    trimmed.includes("?") ||
    trimmed.includes("#") ||
    trimmed.split("/").some((s) => s === "." || s === "..")
  ) {
    throw new TypeError(
      `basePath must be an absolute URL path like "/" or "/playground", got ${JSON.stringify(basePath)}`,
    );
  }
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** The decoded path of a request target, or undefined when it is not a plain, well-formed path. */
function requestPath(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith("/")) return undefined;
  const raw = url.split(/[?#]/, 1)[0] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function queryOf(url: string | undefined): string {
  const at = url?.indexOf("?") ?? -1;
  return at === -1 || url === undefined ? "" : url.slice(at);
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const values = (Array.isArray(header) ? header.join(",") : header)
    .split(",")
    .map((v) => v.trim().replace(/^W\//, ""));
  return values.includes("*") || values.includes(etag);
}

/** Every regular file directly in the assets directory whose type is known, by name. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new Error(
      `the playground is not built: cannot read ${dir} (run \`pnpm --filter @chatgptchatbot/playground build\`)`,
      {
        cause: error,
      },
    );
  }
  for (const entry of entries) {
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || contentType === undefined) continue;
    const body = readFileSync(join(dir, entry.name));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    assets.set(entry.name, { body, contentType, etag });
  }
  return assets;
}
