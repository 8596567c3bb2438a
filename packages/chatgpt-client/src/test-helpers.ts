/** Helpers for this package's tests (not exported from the package). */
import { type AskRequest, type AskResult, ChatbotError, type Logger, type SessionConfig } from "@chatgptchatbot/core";
import { expect } from "vitest";

/** Obviously fake credentials. */
export const API_KEY = "sk-test-0123456789abcdef0123456789ab12";
export const ACCESS_TOKEN = "eyJ-test-access-token-0123456789-cd34";

/** A session config as parseSessionConfig would give it. */
export function sessionConfig(overrides: Partial<SessionConfig> = {}): SessionConfig {
  return {
    kind: "api-key",
    version: 3,
    credentials: [API_KEY],
    serverCredential: false,
    model: undefined,
    baseUrl: undefined,
    temperature: undefined,
    maxTokens: 3000,
    filter: true,
    ...overrides,
  };
}

export function askRequest(overrides: Partial<AskRequest> = {}): AskRequest {
  const config = overrides.config ?? sessionConfig();
  return {
    prompt: "hello",
    systemPrompt: "",
    history: [],
    conversation: null,
    credential: config.credentials[0]!,
    config,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Runs a reply stream to its end: the deltas and the result. */
export async function drain(
  stream: AsyncGenerator<string, AskResult | void, undefined>,
): Promise<{ deltas: string[]; text: string; result: AskResult }> {
  const deltas: string[] = [];
  for (;;) {
    const step = await stream.next();
    if (step.done) return { deltas, text: deltas.join(""), result: step.value ?? {} };
    deltas.push(step.value);
  }
}

/** The ChatbotError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<ChatbotError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ChatbotError);
    return error as ChatbotError;
  }
  throw new Error("expected a rejection");
}

/** A logger that keeps every line, to check what was logged (and that no secret was). */
export function recordingLogger(): Logger & { lines: { level: string; obj: object; msg?: string | undefined }[]; text(): string } {
  const lines: { level: string; obj: object; msg?: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () => JSON.stringify(lines, (_key, value: unknown) => (value instanceof Error ? { message: value.message, stack: value.stack } : value)),
  };
}

/** Everything an error exposes that could be logged: message, cause chain, stack. */
export function everythingIn(error: Error): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? "");
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join("\n");
}

/**
 * A TCP forwarder on 127.0.0.1 in front of `target` that counts the
 * connections clients open: keep-alive reuse shows as one connection for
 * many requests.
 */
export async function startConnectionCounter(target: string): Promise<{ origin: string; connections: () => number; close(): Promise<void> }> {
  const { createServer, connect } = await import("node:net");
  const { hostname, port } = new URL(target);
  let count = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((client) => {
    count++;
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${address.port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A hand-written HTTP server on 127.0.0.1 for replies the fakes do not play; counts connections. */
export async function startScriptedServer(
  handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void,
): Promise<{ origin: string; connections: () => number; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  let count = 0;
  const server = createServer(handler);
  server.on("connection", () => count++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Lets pending I/O callbacks run (not a wall-clock wait). */
export const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
