import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { CredentialSealer } from "../src/index.js";

/**
 * A CredentialSealer for tests (AES-256-GCM, context as associated data):
 * the program hands store-sqlite's cipher in; this one only has its shape.
 */
export function testSealer(key: Uint8Array = randomBytes(32)): CredentialSealer {
  return {
    seal: ({ plaintext, context }) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    open: ({ sealed, context }) => {
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12)).setAAD(Buffer.from(context));
        decipher.setAuthTag(sealed.subarray(12, 28));
        return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        return undefined;
      }
    },
  };
}
