import { describe, expect, it } from "vitest";
import { formatSSE, parseSSE, readSSE, SSEParser } from "./sse.js";

describe("formatSSE / parseSSE", () => {
  it("round-trips strings, JSON and multi-line data", () => {
    const text = formatSSE({ a: 1 }) + formatSSE("line one\nline two") + formatSSE("[DONE]");
    expect(text).toBe('data: {"a":1}\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n');
    expect(parseSSE(text)).toEqual(['{"a":1}', "line one\nline two", "[DONE]"]);
  });

  it("ignores comments, other fields and events without data; accepts CRLF and no space after the colon", () => {
    const text = ": keep-alive\r\n\r\nevent: ping\r\nid: 3\r\n\r\ndata:x\r\nretry: 10\r\ndata:  y\r\n\r\n";
    expect(parseSSE(text)).toEqual(["x\n y"]);
  });

  it("drops an event not terminated by a blank line (a cut stream)", () => {
    expect(parseSSE("data: a\n\ndata: b\n")).toEqual(["a"]);
  });
});

describe("SSEParser", () => {
  it("gives the same events however the text is split, even inside CRLF", () => {
    const text = "data: first\r\n\r\ndata: sec\r\ndata: ond\r\n\r\ndata: [DONE]\r\n\r\n";
    const parser = new SSEParser();
    const payloads = [...text].flatMap((char) => parser.push(char));
    expect(payloads).toEqual(["first", "sec\nond", "[DONE]"]);
  });

  it("readSSE decodes byte chunks split inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode(formatSSE("héllo 👋"));
    async function* pieces() {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const payloads: string[] = [];
    for await (const data of readSSE(pieces())) payloads.push(data);
    expect(payloads).toEqual(["héllo 👋"]);
  });
});
