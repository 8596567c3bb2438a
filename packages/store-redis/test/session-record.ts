import type { SessionConfig, SessionRecord } from "@chatgptchatbot/core";
import { sessionRecord as freshRecord, sessionConfig } from "@chatgptchatbot/testkit/testing";

/** An API-key config with an obviously fake key; model and temperature set, so they round-trip too. */
export const TEST_CONFIG: SessionConfig = sessionConfig({
  credentials: ["sk-test-redis-store-000000000001"],
  model: "gpt-test",
  temperature: 0.5,
  maxTokens: 100_000,
});

/** A fresh session record of {@link TEST_CONFIG}, as the pool creates one; `overrides` replace fields. */
export function sessionRecord(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return freshRecord(id, { config: TEST_CONFIG, ...overrides });
}
