/**
 * A documented stand-in for a tokenizer, good enough for usage numbers that move the
 * right way: one token per 4 characters, rounded up (OpenAI's rule of thumb for English).
 * `promptTokens` adds 3 tokens per message and 3 to prime the reply, as chat models do.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimatePromptTokens(messages: readonly string[]): number {
  return messages.reduce((sum, content) => sum + 3 + estimateTokens(content), 3);
}
