import { describe, expect, it } from "vitest";
import { chunkText } from "./chunk-text.js";

describe("chunkText", () => {
  it.each(["echo: hello world", "  leading and trailing  ", "one", "multi\nline\n\ntext\n", " ", ""])(
    "splits %j into pieces that join back exactly",
    (text) => {
      expect(chunkText(text).join("")).toBe(text);
    },
  );

  it("makes one piece per word, each with the whitespace before it", () => {
    expect(chunkText("echo: hello  world")).toEqual(["echo:", " hello", "  world"]);
    expect(chunkText("")).toEqual([]);
  });
});
