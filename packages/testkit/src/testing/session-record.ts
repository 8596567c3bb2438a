import type { SessionRecord } from "@chatgptchatbot/core";
import { sessionConfig } from "./backend-requests.js";

/** A fresh session record as the pool creates one (no turns yet); `overrides` replace fields. */
export function sessionRecord(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    config: sessionConfig(),
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
