/** Helpers for this package's tests (not exported from the package). */
import { type AskRequest, type AskResult, ChatbotError, type Logger, type SessionConfig } from "@chatgptchatbot/core";
import { expect } from "vitest";

/** Obviously fake credentials. */
export const API_KEY = "sk-test-0123456789abcdef0123456789ab12";
export const ACCESS_TOKEN = "eyJ-test-access-token-0123456789-cd34";

/** A session config as parseSessionConfig would give it. */
export function sessionConfig(overrides: Partial<SessionConfig> = {}): SessionConfig {
  return {
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
