import type { AskRequest, AskResult, SessionConfig } from "@chatgptchatbot/core";

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

