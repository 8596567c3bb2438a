import { describe, expect, it } from "vitest";
import { maskSecret, redactSecrets } from "./mask.js";

describe("maskSecret", () => {
  it("keeps five leading and four trailing characters", () => {
    expect(maskSecret("sk-test-0123456789abcdefab12")).toBe("sk-te…ab12");
  });
  it("masks short secrets entirely", () => {
    expect(maskSecret("sk-short")).toBe("****");
  });
});

describe("redactSecrets", () => {
  it("replaces every occurrence", () => {
    const key = "sk-test-0123456789abcdefab12";
    const out = redactSecrets(`Incorrect API key provided: ${key}. Again: ${key}`, [key]);
    expect(out).not.toContain(key);
    expect(out).toBe("Incorrect API key provided: sk-te…ab12. Again: sk-te…ab12");
  });
});
