/**
 * Runs the whole `chatgptchatbot` program in-process (flags, environment,
 * real backends, real sockets on 127.0.0.1 with OS-assigned ports), with a
 * shutdown the test triggers as SIGTERM would.
 */
import { Writable } from "node:stream";
import type { NodeHandlerFn } from "@chatgptchatbot/grpc-server";
import { runServer } from "../src/run.js";
import { stateFolder } from "./state-folder.js";

export interface RunningProgram {
  readonly grpcUrl: string;
  readonly httpUrl: string | undefined;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Everything written to stdout / stderr (help, one-line errors). */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code once the program has stopped. */
  readonly exited: Promise<number>;
  /** As SIGTERM: starts the graceful stop; resolves with the exit code. */
  stop(reason?: string): Promise<number>;
}

export async function startProgram({
  env = {},
  argv = ["--grpc", "127.0.0.1:0"],
  createFallback,
}: {
  env?: Record<string, string>;
  argv?: string[];
  /** As main's playground: what serves non-RPC paths on the gRPC port. */
  createFallback?: () => NodeHandlerFn;
} = {}): Promise<RunningProgram> {
  const logs: Record<string, unknown>[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") logs.push(JSON.parse(line));
      callback();
    },
  });
  let triggerShutdown!: (reason: string) => void;
  const shutdown = new Promise<string>((resolve) => (triggerShutdown = resolve));
  let onListening!: (urls: { grpc?: string; http?: string }) => void;
  const listening = new Promise<{ grpc?: string; http?: string }>((resolve) => (onListening = resolve));
  // The default store (SQLite) in a temp folder of this run's own, removed after it, unless the test chose one.
  const state = stateFolder();
  const exited = runServer({
    argv,
    env: { CHATBOT_SWEEP_INTERVAL: "0", ...state.env, ...env },
    homeDir: state.env.HOME,
    shutdown,
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    logDestination: destination,
    ...(createFallback === undefined ? {} : { createFallback }),
    onListening,
  }).finally(() => state.remove());
  const urls = await Promise.race([
    listening,
    exited.then((code) => Promise.reject(new Error(`exited with ${code}: ${stderr.join("")}`))),
  ]);
  return {
    grpcUrl: urls.grpc ?? "",
    httpUrl: urls.http,
    logs,
    stdout,
    stderr,
    exited,
    stop(reason = "SIGTERM") {
      triggerShutdown(reason);
      return exited;
    },
  };
}
