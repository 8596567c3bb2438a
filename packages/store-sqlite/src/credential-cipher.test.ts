import { describe, expect, it } from "vitest";
import { CredentialCipher, isSealed, parseStoreKey } from "./credential-cipher.js";

const key = new Uint8Array(32).fill(3);

describe("CredentialCipher", () => {
  it("opens what it sealed, with a fresh IV each time", () => {
    const cipher = new CredentialCipher({ key });
    const a = cipher.seal({ plaintext: '["sk-test-1"]', context: "s-1" });
    const b = cipher.seal({ plaintext: '["sk-test-1"]', context: "s-1" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(isSealed(a)).toBe(true);
    expect(Buffer.from(a).toString("latin1")).not.toContain("sk-test-1");
    expect(cipher.open({ sealed: a, context: "s-1" })).toBe('["sk-test-1"]');
  });

  it("refuses another key, another context, tampered bytes and plaintext", () => {
    const cipher = new CredentialCipher({ key });
    const sealed = cipher.seal({ plaintext: "secret", context: "s-1" });
    expect(new CredentialCipher({ key: new Uint8Array(32).fill(4) }).open({ sealed, context: "s-1" })).toBeUndefined();
    expect(cipher.open({ sealed, context: "s-2" })).toBeUndefined();
    const tampered = Uint8Array.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(cipher.open({ sealed: tampered, context: "s-1" })).toBeUndefined();
    expect(cipher.open({ sealed: Buffer.from('["x"]'), context: "s-1" })).toBeUndefined();
    expect(cipher.open({ sealed: sealed.subarray(0, 20), context: "s-1" })).toBeUndefined();
  });
});

describe("parseStoreKey", () => {
  it("accepts 32 bytes in standard or URL-safe base64", () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
    for (const text of [bytes.toString("base64"), bytes.toString("base64url"), ` ${bytes.toString("base64")}\n`]) {
      const parsed = parseStoreKey(text);
      expect(parsed.ok && Buffer.from(parsed.key).equals(bytes)).toBe(true);
    }
  });

  it("says what is wrong without echoing the text", () => {
    const short = Buffer.alloc(31, 1).toString("base64");
    const parsed = parseStoreKey(short);
    expect(parsed).toEqual({ ok: false, reason: expect.stringContaining("got 31") });
    expect(JSON.stringify(parsed)).not.toContain(short);
    expect(parseStoreKey("secret with spaces")).toEqual({ ok: false, reason: expect.stringContaining("not base64") });
  });
});
