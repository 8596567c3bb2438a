/**
 * The harness's processes talk over Node's IPC channel in small JSON
 * messages. Every child announces itself with `{type: "ready", ...}`; the
 * parent waits for it (bounded) and may then ask it things.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Message {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The ready message's fields. */
  readonly ready: Message;
  /** Sends a message and waits (bounded) for the next message of `replyType`. */
  ask(message: Message, replyType: string, timeoutMs: number): Promise<Message>;
  /** Asks the child to exit, then kills it if it has not within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The path of a sibling bundle in dist/ (e.g. "load-worker.js"). */
export function bundlePath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export async function startChild({
  bundle,
  args = [],
  execArgv = [],
  env,
  readyTimeoutMs = 15_000,
}: {
  bundle: string;
  args?: readonly string[];
  execArgv?: readonly string[];
  /** The child's whole environment (default: this process's). */
  env?: Readonly<Record<string, string>>;
  readyTimeoutMs?: number;
}): Promise<Child> {
  const child = fork(bundlePath(bundle), [...args], {
    execArgv: [...execArgv],
    stdio: ["ignore", env === undefined ? "inherit" : "ignore", "inherit", "ipc"],
    ...(env === undefined ? {} : { env: { PATH: process.env.PATH ?? "", ...env } }),
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A send to a child that has just disconnected fails with EPIPE: stop() then kills it.
  child.on("error", () => {});
  const next = (type: string, timeoutMs: number): Promise<Message> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`${bundle}: no "${type}" message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (message: Message) => {
        if (message.type === type) done(undefined, message);
        else if (message.type === "error") done(new Error(`${bundle}: ${String(message.message)}`));
      };
      const onExit = (code: number | null) => done(new Error(`${bundle} exited (${code}) before sending "${type}"`));
      function done(error: Error | undefined, message?: Message): void {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (error) reject(error);
        else resolve(message!);
      }
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  let ready: Message;
  try {
    ready = await next("ready", readyTimeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    process: child,
    pid: child.pid!,
    ready,
    ask(message, replyType, timeoutMs) {
      const reply = next(replyType, timeoutMs);
      child.send(message);
      return reply;
    },
    async stop(timeoutMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: "exit" }, () => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In a child: sends a message to the parent. */
export function sendToParent(message: Message): void {
  process.send?.(message);
}

/** In a child: handles the parent's messages; "exit" runs `onExit` and exits. */
export function onParentMessage(
  handler: (message: Message) => void | Promise<void>,
  onExit: () => Promise<void> = async () => {},
): void {
  process.on("message", (message: Message) => {
    if (message.type === "exit") {
      void onExit().finally(() => process.exit(0));
      return;
    }
    Promise.resolve(handler(message)).catch((error: unknown) =>
      sendToParent({ type: "error", message: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The parent went away: do not linger.
  process.on("disconnect", () => process.exit(0));
}
