import { describe, expect, it } from "vitest";
import { formatSSE, parseSSE, readSSE, SSE_DONE } from "./sse.js";

// The decoder itself is tested in @chatgptchatbot/sse; these check the payload views the fakes' tests use.
describe("parseSSE / readSSE", () => {
  const text = formatSSE({ a: 1 }) + formatSSE("two\nlines") + formatSSE(SSE_DONE);

  it("parseSSE gives the data payloads of the complete events, a cut last one left out", () => {
    expect(parseSSE(text)).toEqual(['{"a":1}', "two\nlines", "[DONE]"]);
    expect(parseSSE(`${text}data: cut`)).toEqual(['{"a":1}', "two\nlines", "[DONE]"]);
  });

  it("readSSE gives the same payloads from byte chunks split anywhere", async () => {
    const bytes = new TextEncoder().encode(text);
    async function* pieces() {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    }
    const payloads: string[] = [];
    for await (const data of readSSE(pieces())) payloads.push(data);
    expect(payloads).toEqual(parseSSE(text));
  });
});
