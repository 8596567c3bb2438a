import { redactSecrets } from "@chatgptchatbot/core";

const MAX_REASON_LENGTH = 300;

/**
 * An upstream's reason made fit for an error message: one line, bounded in
 * length, and every occurrence of the credential masked (an upstream may
 * echo the key it rejected).
 */
export function safeReason(text: string, credential: string): string {
  const line = redactSecrets(text, [credential]).replace(/\s+/g, " ").trim();
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}

/**
 * The error to keep as a ChatbotError's `cause` (for logs): the original,
 * unless its message chain contains the credential; then a plain Error with
 * the masked message instead, so a logger that prints causes never sees it.
 */
export function safeCause(error: unknown, credential: string): unknown {
  if (credential.length < 6) return error;
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    const text = current instanceof Error ? `${current.message} ${current.stack ?? ""}` : safeString(current);
    if (text.includes(credential)) {
      return new Error(redactSecrets(error instanceof Error ? error.message : safeString(error), [credential]));
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return error;
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
