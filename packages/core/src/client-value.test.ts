import { describe, expect, it } from "vitest";
import { clientIdentifier, QUOTED_VALUE_CHARS, quoteClientValue } from "./client-value.js";

describe("quoteClientValue", () => {
  it("quotes a short string as JSON would", () => {
    expect(quoteClientValue("three")).toBe('"three"');
    expect(quoteClientValue('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it("cuts a long string and says how long it was", () => {
    const quoted = quoteClientValue("v".repeat(100_000));
    expect(quoted).toBe(`"${"v".repeat(QUOTED_VALUE_CHARS)}…" (100000 characters)`);
  });

  it("escapes control and non-ASCII characters, so the result is printable ASCII", () => {
    expect(quoteClientValue("a\u0000b\r\nключ")).toBe('"a\\u0000b\\u000d\\u000a\\u043a\\u043b\\u044e\\u0447"');
    for (const value of ["😀".repeat(50), "\u0000".repeat(100), "%".repeat(100), "\uD800"]) {
      const quoted = quoteClientValue(value);
      expect(quoted).toMatch(/^[\x20-\x7e…]*$/);
      expect(quoted.length).toBeLessThanOrEqual(QUOTED_VALUE_CHARS * 6 + 30);
    }
  });

  it("never splits a surrogate pair at the cut", () => {
    const quoted = quoteClientValue(`${"a".repeat(QUOTED_VALUE_CHARS - 1)}😀tail`);
    expect(quoted).toBe(`"${"a".repeat(QUOTED_VALUE_CHARS - 1)}…" (${QUOTED_VALUE_CHARS + 5} characters)`);
  });

  it("names other values by their type, never serializing them (a deep array would overflow the stack)", () => {
    let deep: unknown = 3;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(quoteClientValue(deep)).toBe("an array");
    expect(quoteClientValue({ a: 1 })).toBe("an object");
    expect(quoteClientValue(null)).toBe("null");
    expect(quoteClientValue(2)).toBe("2");
    expect(quoteClientValue(true)).toBe("true");
  });
});

describe("clientIdentifier", () => {
  it("leaves a short visible-ASCII id as it is", () => {
    expect(clientIdentifier("00000000-0000-4000-8000-000000000000")).toBe("00000000-0000-4000-8000-000000000000");
    expect(clientIdentifier("nope")).toBe("nope");
  });

  it("quotes anything else, short", () => {
    expect(clientIdentifier("")).toBe('""');
    expect(clientIdentifier("a b")).toBe('"a b"');
    expect(clientIdentifier('a"b')).toBe('"a\\"b"');
    expect(clientIdentifier("x".repeat(100_000))).toBe(`"${"x".repeat(QUOTED_VALUE_CHARS)}…" (100000 characters)`);
  });
});
