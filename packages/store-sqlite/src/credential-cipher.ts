import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** The first byte of a sealed value: the format, so a later one can be told apart. */
const FORMAT_V1 = 0x01;
const IV_BYTES = 12; // the size GCM is designed for
const TAG_BYTES = 16;
export const STORE_KEY_BYTES = 32;

/**
 * Parses `CHATBOT_STORE_KEY`: 32 random bytes in base64 (standard or
 * URL-safe, padding optional), as `openssl rand -base64 32` prints them.
 *
 * @returns the key, or a reason (which never contains the key) when it is not one.
 */
export function parseStoreKey(text: string): { ok: true; key: Uint8Array } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    return { ok: false, reason: "CHATBOT_STORE_KEY is not base64 (make one with `openssl rand -base64 32`)" };
  }
  const key = Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== STORE_KEY_BYTES) {
    return {
      ok: false,
      reason: `CHATBOT_STORE_KEY must decode to ${STORE_KEY_BYTES} bytes, got ${key.length} (make one with \`openssl rand -base64 32\`)`,
    };
  }
  return { ok: true, key: new Uint8Array(key) };
}

/**
 * AES-256-GCM over small values (a session's credentials). Each value gets a
 * fresh random IV; `context` (the session id) is bound as associated data, so
 * a sealed value copied into another row does not open there.
 */
export class CredentialCipher {
  readonly #key: Uint8Array;

  constructor({ key }: { key: Uint8Array }) {
    if (key.length !== STORE_KEY_BYTES) throw new RangeError(`a store key is ${STORE_KEY_BYTES} bytes`);
    this.#key = key;
  }

  seal({ plaintext, context }: { plaintext: string; context: string }): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), iv, cipher.getAuthTag(), body]);
  }

  /** @returns the plaintext, or undefined when the value was not sealed with this key and context. */
  open({ sealed, context }: { sealed: Uint8Array; context: string }): string | undefined {
    if (!isSealed(sealed) || sealed.length < 1 + IV_BYTES + TAG_BYTES) return undefined;
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const body = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      return undefined; // authentication failed: another key, another context, or tampered bytes
    }
  }
}

/** Whether a stored value is sealed (plaintext credentials are JSON, starting with `[`). */
export function isSealed(value: Uint8Array): boolean {
  return value[0] === FORMAT_V1;
}
