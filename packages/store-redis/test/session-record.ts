import type { SessionConfig, SessionRecord } from "@chatgptchatbot/core";

/** An API-key config with an obviously fake key; model and temperature set, so they round-trip too. */
export const TEST_CONFIG: SessionConfig = {
  kind: "api-key",
  version: 3,
  credentials: ["sk-test-redis-store-000000000001"],
  serverCredential: false,
  model: "gpt-test",
  baseUrl: undefined,
  temperature: 0.5,
  maxTokens: 100_000,
  filter: true,
};

/** A fresh session record, as the pool creates one; `overrides` replace fields. */
export function sessionRecord(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    config: TEST_CONFIG,
    initialPrompt: "Be a cat.",
    initialResponse: "",
    systemTokens: 7,
    history: [],
    conversation: null,
    createdAt: 1_000,
    conversationStartedAt: 1_000,
    lastActiveAt: 1_000,
    ...overrides,
  };
}
