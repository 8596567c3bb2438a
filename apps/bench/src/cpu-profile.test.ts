import { describe, expect, it } from "vitest";
import { packageOf, summarizeProfile } from "./cpu-profile.js";

describe("packageOf", () => {
  it("names the package of a frame's URL", () => {
    expect(packageOf("file:///w/node_modules/.pnpm/undici@7.30.2/node_modules/undici/lib/core/util.js")).toBe("undici");
    expect(packageOf("file:///w/node_modules/.pnpm/x/node_modules/@grpc/grpc-js/build/src/server.js")).toBe("@grpc/grpc-js");
    expect(packageOf("file:///w/packages/core/dist/index.js")).toBe("@chatgptchatbot/core");
    expect(packageOf("node:internal/streams/readable")).toBe("node: internals");
    expect(packageOf("")).toBe("(native / V8)");
  });
});

describe("summarizeProfile", () => {
  it("sums self time per function and package, idle left out", () => {
    const frame = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url, lineNumber: 9 } });
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
    expect(summary.packages.map((p) => p.name)).toEqual(["gpt-tokenizer", "@chatgptchatbot/core", "(garbage collector)"]);
  });
});
