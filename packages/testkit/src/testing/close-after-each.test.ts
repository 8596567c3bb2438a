import { describe, expect, it } from "vitest";
import { type Closers, closeAfterEach, closeAll } from "./close-after-each.js";

describe("closeAfterEach", () => {
  const cleanup = closeAfterEach();
  const closed: string[] = [];

  it("collects closes during a test", () => {
    cleanup.push(
      () => closed.push("server"),
      async () => closed.push("client"),
    );
    expect(closed).toEqual([]);
  });

  it("ran them after the test, the last pushed first, and starts each test empty", () => {
    expect(closed).toEqual(["client", "server"]);
    expect(cleanup).toEqual([]);
  });
});

describe("closeAll", () => {
  it("runs every close when one fails, then throws the first failure", async () => {
    const closed: string[] = [];
    const closers: Closers = [
      () => closed.push("a"),
      () => Promise.reject(new Error("b failed")),
      () => {
        throw new Error("c failed");
      },
      () => closed.push("d"),
    ];
    await expect(closeAll(closers)).rejects.toThrow("c failed");
    expect(closed).toEqual(["d", "a"]);
    expect(closers).toEqual([]);
  });
});
