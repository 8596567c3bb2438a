/**
 * What a credential (API key or access token) may be: it travels in an HTTP
 * header (`Authorization: Bearer …`), so only visible ASCII (0x21–0x7E), at
 * least one character and a bounded length. Checked where a credential enters
 * the server (a session config, `/renew`, the server's own defaults at start):
 * one that could never be sent would otherwise be accepted and fail every chat.
 */

/** Longest credential accepted, in characters (OpenAI keys are ~170, ChatGPT access tokens ~2,000). */
export const MAX_CREDENTIAL_CHARS = 4_096;

/**
 * Why a (trimmed) credential cannot be used, or undefined when it can. The
 * reason never quotes the value: it is a secret, and may be hostile.
 */
export function credentialProblem(value: string): string | undefined {
  if (value === "") return "must not be empty or only whitespace";
  if (value.length > MAX_CREDENTIAL_CHARS) return `must be at most ${MAX_CREDENTIAL_CHARS} characters`;
  if (!/^[\x21-\x7e]+$/.test(value)) {
    return "must be visible ASCII only (no spaces, control or non-ASCII characters: it is sent in an HTTP header)";
  }
  return undefined;
}
