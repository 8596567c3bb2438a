import { describe, expect, it } from "vitest";
import { callersOf, packageOf, summarizeProfile } from "./cpu-profile.js";

describe("packageOf", () => {
  it("names the package of a frame's URL", () => {
    expect(packageOf("file:///w/node_modules/.pnpm/undici@7.30.2/node_modules/undici/lib/core/util.js")).toBe("undici");
    expect(packageOf("file:///w/node_modules/.pnpm/x/node_modules/@grpc/grpc-js/build/src/server.js")).toBe(
      "@grpc/grpc-js",
    );
    expect(packageOf("file:///w/packages/core/dist/index.js")).toBe("@chatgptchatbot/core");
    expect(packageOf("node:internal/streams/readable")).toBe("node: internals");
    expect(packageOf("")).toBe("(native / V8)");
  });
});

describe("summarizeProfile", () => {
  it("sums self time per function and package, idle left out", () => {
    const frame = (id: number, functionName: string, url: string) => ({
      id,
      callFrame: { functionName, url, lineNumber: 9 },
    });
    const summary = summarizeProfile({
      startTime: 0,
      endTime: 100,
      nodes: [
        frame(1, "(root)", ""),
        frame(2, "(idle)", ""),
        frame(3, "encode", "file:///r/node_modules/gpt-tokenizer/esm/a.js"),
        frame(4, "chat", "file:///r/packages/core/dist/index.js"),
        frame(5, "(garbage collector)", ""),
      ],
      // Each sample's time is the next delta.
      samples: [3, 3, 4, 2, 5, 3],
      timeDeltas: [0, 10, 15, 20, 500, 5, 0],
    });
    expect(summary.total).toBe(10 + 15 + 20 + 5 + 0);
    expect(summary.functions[0]).toEqual({ name: "encode gpt-tokenizer/esm/a.js:10", micros: 25, share: 25 / 50 });
    expect(summary.functions.find((f) => f.name.startsWith("chat"))?.micros).toBe(20);
    expect(summary.packages.map((p) => p.name)).toEqual([
      "gpt-tokenizer",
      "@chatgptchatbot/core",
      "(garbage collector)",
    ]);
  });

  it("counts only the samples inside a window", () => {
    const frame = (id: number, functionName: string) => ({
      id,
      callFrame: { functionName, url: "file:///x.js", lineNumber: 0 },
    });
    const profile = {
      startTime: 1000,
      endTime: 2000,
      nodes: [frame(1, "early"), frame(2, "inside"), frame(3, "late")],
      // Samples at 1010, 1100, 1200 (and a last one at 1300).
      samples: [1, 2, 3, 3],
      timeDeltas: [10, 90, 100, 100],
    };
    const summary = summarizeProfile(profile, { window: [1050, 1150] });
    expect(summary.functions.map((f) => f.name)).toEqual(["inside /x.js:1"]);
    expect(summary.total).toBe(100);
  });
});

describe("callersOf", () => {
  it("groups a function's self time by its callers", () => {
    const node = (id: number, functionName: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url: "", lineNumber: 0 },
      children,
    });
    const profile = {
      startTime: 0,
      endTime: 100,
      nodes: [node(1, "(root)", [2, 3]), node(2, "a", [4]), node(3, "b", [5]), node(4, "hot"), node(5, "hot")],
      samples: [4, 4, 5, 2],
      timeDeltas: [0, 10, 10, 30, 0],
    };
    expect(callersOf(profile, "hot", { depth: 2 })).toEqual([
      { name: "b < (root)", micros: 30, share: 30 / 50 },
      { name: "a < (root)", micros: 20, share: 20 / 50 },
    ]);
  });
});
