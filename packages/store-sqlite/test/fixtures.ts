import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryEntry, SessionRecord } from "@chatgptchatbot/core";

/** A fresh folder under the OS temp dir, and a way to remove it. */
export function tempFolder(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), "store-sqlite-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** One user message and its reply, with made-up token counts. */
export function turn(n: number, size = 40): HistoryEntry[] {
  return [
    { role: "user", content: `question ${n} ${"q".repeat(size)}`, tokens: 10 + n },
    { role: "assistant", content: `answer ${n} ${"a".repeat(size * 4)}`, tokens: 40 + n },
  ];
}

export function makeRecord({
  id,
  turns = 0,
  credentials = ["sk-test-client-0001"],
  serverCredential = false,
  now = 1_700_000_000_000,
}: {
  id: string;
  turns?: number;
  credentials?: string[];
  serverCredential?: boolean;
  now?: number;
}): SessionRecord {
  return {
    id,
    config: {
      kind: "api-key",
      version: 3,
      credentials,
      serverCredential,
      model: "gpt-test",
      baseUrl: undefined,
      temperature: 0.7,
      maxTokens: 3000,
      filter: true,
    },
    initialPrompt: "You are a cheerful streamer.",
    initialResponse: "",
    systemTokens: 12,
    history: Array.from({ length: turns }, (_, i) => turn(i)).flat(),
    conversation: { conversationId: `c-${id}`, parentId: "p-1", depth: 3, done: false, none: null },
    createdAt: now,
    conversationStartedAt: now + 1,
    lastActiveAt: now + 2,
  };
}
