/**
 * The server under test, spawned as the real CLI (`chatgptchatbot --grpc
 * host:port --http host:port`), so its /proc counters hold its own work only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { request } from "undici";

export interface ServerProcess {
  readonly pid: number;
  readonly grpcAddress: string;
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
  readonly httpPort: number;
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly execArgv?: readonly string[];
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
  readyTimeoutMs = 20_000,
}: StartServerOptions): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...execArgv, bin, "--grpc", `127.0.0.1:${grpcPort}`, "--http", `127.0.0.1:${httpPort}`],
    // stdout (the log) goes to /dev/null: written, as in production, but not kept.
    { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const httpOrigin = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) at start:\n${tail}`);
    if ((await canConnect(grpcPort)) && (await httpReady(httpOrigin))) break;
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
