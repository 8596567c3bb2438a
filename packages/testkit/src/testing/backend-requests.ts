import type { SessionConfig } from "@chatgptchatbot/core";
import { type AskPart, type AskRequest, type AskResult, resultOf } from "@chatgptchatbot/core";

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

/**
 * Runs a reply stream to its end: its parts, the text deltas, the text, the
 * reasoning, and what its `finish` said (`finished` false when it ended
 * without one).
 */
export async function drain(stream: AsyncIterable<AskPart>): Promise<{
  parts: AskPart[];
  deltas: string[];
  text: string;
  reasoning: string;
  finished: boolean;
  result: AskResult;
}> {
  const parts: AskPart[] = [];
  const deltas: string[] = [];
  let reasoning = "";
  let result: AskResult | undefined;
  for await (const part of stream) {
    parts.push(part);
    if (part.type === "text") deltas.push(part.text);
    else if (part.type === "reasoning") reasoning += part.text;
    else result = resultOf(part);
  }
  return { parts, deltas, text: deltas.join(""), reasoning, finished: result !== undefined, result: result ?? {} };
}
