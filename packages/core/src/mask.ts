/**
 * Masks a secret for logs and error messages: the first five and last four
 * characters survive (`sk-te…ab12`), enough to tell keys apart, never enough
 * to use one. Short secrets are masked entirely.
 */
export function maskSecret(secret: string): string {
  if (secret.length <= 12) return "****";
  return `${secret.slice(0, 5)}…${secret.slice(-4)}`;
}

/** Replaces every occurrence of each secret in `text` by its mask. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join(maskSecret(secret));
  }
  return out;
}
