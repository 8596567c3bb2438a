/** One stored message with its token cost, counted once when it is added. */
export interface HistoryEntry {
  readonly role: "user" | "assistant";
  readonly content: string;
  /** Tokens of content plus per-message overhead. */
  readonly tokens: number;
}

/**
 * Picks the newest history that fits a budget: system prompt + history + new
 * prompt must not exceed `budget` tokens. Drops whole turns (a user message
 * and the assistant reply after it), oldest first, so the model never sees a
 * reply without its question. Counts are the entries' stored counts: nothing
 * is tokenized again.
 *
 * @returns the index of the first entry to keep.
 */
export function fitHistory(history: readonly HistoryEntry[], fixedTokens: number, budget: number): number {
  let total = fixedTokens;
  for (const entry of history) total += entry.tokens;
  let start = 0;
  while (start < history.length && total > budget) {
    // Drop one whole turn: the entry at `start` and any assistant replies after it.
    total -= history[start]!.tokens;
    start++;
    while (start < history.length && history[start]!.role === "assistant") {
      total -= history[start]!.tokens;
      start++;
    }
  }
  return start;
}
