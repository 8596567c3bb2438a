import { describe, expect, it } from "vitest";
import { jsonTooDeep, MAX_JSON_DEPTH } from "./json-depth.js";

const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("jsonTooDeep", () => {
  it("accepts flat and moderately nested JSON", () => {
    expect(jsonTooDeep('{"version": 3, "api_keys": ["a", "b"]}')).toBe(false);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(`[${nested(MAX_JSON_DEPTH - 1)}, ${nested(MAX_JSON_DEPTH - 1)}]`)).toBe(false);
  });

  it("refuses one level more, and 10,000 nested arrays", () => {
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTooDeep(`{"version": ${nested(10_000)}}`)).toBe(true);
    expect(jsonTooDeep(`{"a": {"b": {"c": 1}}}`, 2)).toBe(true);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonTooDeep(`{"prompt": "${"[{".repeat(1_000)}"}`)).toBe(false);
    expect(jsonTooDeep(`{"prompt": "\\"${"[".repeat(1_000)}"}`)).toBe(false);
    expect(jsonTooDeep(`{"prompt": "\\\\", "x": ${nested(40)}}`)).toBe(true);
  });
});
