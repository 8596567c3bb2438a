import { describe, expect, it } from "vitest";
import { safeCause, safeReason } from "./safe-error.js";

const KEY = "sk-test-0123456789abcdef0123456789ab12";

describe("safeReason", () => {
  it("masks the credential, folds white space and bounds the length", () => {
    expect(safeReason(`bad key\n  ${KEY}`, KEY)).toBe("bad key sk-te…ab12");
    const long = safeReason("x".repeat(1000), KEY);
    expect(long).toHaveLength(300);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("safeCause", () => {
  it("keeps a cause that does not hold the credential", () => {
    const error = new Error("plain", { cause: new Error("inner") });
    expect(safeCause(error, KEY)).toBe(error);
  });

  it("replaces a cause whose chain holds the credential by a masked copy", () => {
    const error = new Error("outer", { cause: new Error(`echoed ${KEY}`) });
    const safe = safeCause(error, KEY) as Error;
    expect(safe).not.toBe(error);
    expect(safe.message).toBe("outer");
    expect(safe.cause).toBeUndefined();
    expect(String((safeCause(`text ${KEY}`, KEY) as Error).message)).toBe("text sk-te…ab12");
  });
});
