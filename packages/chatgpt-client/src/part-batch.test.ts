import { describe, expect, it } from "vitest";
import { PartBatch } from "./part-batch.js";

describe("PartBatch", () => {
  it("joins adjacent pieces of one kind, keeps the order of kinds, skips empty pieces, and empties on take", () => {
    const batch = new PartBatch();
    batch.add("reasoning", "Let me ");
    batch.add("reasoning", "think.");
    batch.add("text", "");
    batch.add("text", "Hello");
    batch.add("text", ", world");
    batch.add("reasoning", "Done?");
    expect(batch.take()).toEqual([
      { type: "reasoning", text: "Let me think." },
      { type: "text", text: "Hello, world" },
      { type: "reasoning", text: "Done?" },
    ]);
    expect(batch.take()).toEqual([]);
  });
});
