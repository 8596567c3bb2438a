/**
 * The server under test, spawned as the real CLI (`chatgptchatbot --grpc
 * host:port --http host:port`), so its /proc counters hold its own work only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import * as path from "node:path";
import { request } from "undici";

export interface ServerProcess {
  readonly pid: number;
  readonly grpcAddress: string;
  /** The HTTP API's origin ("" when it was not started). */
  readonly httpOrigin: string;
  /** The last few KB the server wrote to stderr. */
  stderrTail(): string;
  /** SIGINT (graceful, so --cpu-prof writes its profile), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartServerOptions {
  /** The CLI bundle, e.g. apps/server/dist/main.js. */
  readonly bin: string;
  readonly grpcPort: number;
  /** The legacy HTTP API's port; none: gRPC only, as the program starts by default. */
  readonly httpPort?: number;
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags (e.g. --cpu-prof); not with `asCommand`. */
  readonly execArgv?: readonly string[];
  /**
   * Run `bin` itself, as `pnpm start` and the installed command do, so the
   * node flags of its first line apply (`--max-semi-space-size=1`); `node`
   * is looked up on PATH, this process's node first. Default: `node bin`.
   */
  readonly asCommand?: boolean;
  readonly readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function httpReady(origin: string): Promise<boolean> {
  try {
    const res = await request(`${origin}/healthz`, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

export async function startServer({
  bin,
  grpcPort,
  httpPort,
  env,
  execArgv = [],
  asCommand = false,
  readyTimeoutMs = 20_000,
}: StartServerOptions): Promise<ServerProcess> {
  if (asCommand && execArgv.length > 0) throw new Error("startServer: execArgv cannot be given to a command");
  const args = [
    "--grpc",
    `127.0.0.1:${grpcPort}`,
    ...(httpPort === undefined ? [] : ["--http", `127.0.0.1:${httpPort}`]),
  ];
  const PATH = asCommand
    ? `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`
    : (process.env.PATH ?? "");
  const child: ChildProcess = spawn(
    asCommand ? bin : process.execPath,
    asCommand ? args : [...execArgv, bin, ...args],
    // stdout (the log) goes to /dev/null: written, as in production, but not kept.
    { env: { PATH, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const httpOrigin = httpPort === undefined ? "" : `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) at start:\n${tail}`);
    if ((await canConnect(grpcPort)) && (httpOrigin === "" || (await httpReady(httpOrigin)))) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server was not ready within ${readyTimeoutMs} ms:\n${tail}`);
    }
    await sleep(50);
  }
  return {
    pid: child.pid!,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpOrigin,
    stderrTail: () => tail,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
