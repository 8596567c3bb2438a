import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/**
 * Whether these suites must skip: only on a developer machine without Debian's
 * redis-server. In CI (`CI=true`) they must run; `.ci/run` installs it.
 */
export const skipWithoutRedis: boolean = (() => {
  const missing = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0;
  if (missing && !process.env.CI) {
    console.warn("store-redis tests skipped: redis-server is missing (apt-get install redis-server; CI installs it)");
    return true;
  }
  return false;
})();

/** A redis-server of the test's own on a free loopback port: never a system-wide one. */
export interface TestRedis {
  readonly port: number;
  readonly password: string | undefined;
  /** The running server's process id (to SIGSTOP it: a hung Redis). */
  readonly pid: number | undefined;
  /** `redis://[:password@]127.0.0.1:port/db` */
  url(db?: number): string;
  /** Kills the server (SIGKILL: no goodbye to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port (if stopped): with its data when started with `persist`, else empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Starts `redis-server` from PATH (Debian's package) on 127.0.0.1, optionally with `requirepass`. */
export async function startTestRedis({
  password,
  persist = false,
}: {
  password?: string;
  persist?: boolean;
} = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "chatbot-redis-"));
  let port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null) return; // running already
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--daemonize", "no"];
    // persist: every write reaches the append-only file before its reply, so a SIGKILLed server restarts with its data.
    args.push("--appendonly", persist ? "yes" : "no", "--appendfsync", "always");
    if (password !== undefined) args.push("--requirepass", password);
    const spawned = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    child = spawned;
    let output = "";
    spawned.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      spawned.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${output.slice(-500)}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({
        port,
        host: "127.0.0.1",
        password,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on("error", () => undefined);
      try {
        await Promise.race([probe.connect().then(() => probe.ping()), exited]);
        probe.disconnect();
        return;
      } catch (error) {
        probe.disconnect();
        if (Date.now() > deadline || spawned.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGKILL");
    });
  };

  try {
    await launch();
  } catch {
    // The port was taken between finding it and binding it: one more try on another.
    await stop();
    port = await freePort();
    await launch();
  }
  return {
    get port() {
      return port;
    },
    password,
    get pid() {
      return child?.pid;
    },
    url: (db = 0) =>
      `redis://${password === undefined ? "" : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}/${db}`,
    stop,
    start: launch,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
