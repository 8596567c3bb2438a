import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseServerSentEvents, readServerSentEvents, SSEDecoder } from "./sse-decoder.js";
import { formatSSE, SSE_DONE } from "./sse-encoder.js";

const dataOf = (text: string) => parseServerSentEvents(text).map(({ data }) => data);

describe("formatSSE", () => {
  it("frames strings as they are, anything else as JSON, multi-line data as several data lines", () => {
    const text = formatSSE({ a: 1 }) + formatSSE("line one\nline two") + formatSSE(SSE_DONE);
    expect(text).toBe('data: {"a":1}\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n');
    expect(dataOf(text)).toEqual(['{"a":1}', "line one\nline two", "[DONE]"]);
  });

  it("names an event, and ends a data line at CR and CRLF too, as a decoder does", () => {
    const text = formatSSE("one\ntwo\r\nthree\rfour", { event: "done" });
    expect(text).toBe("event: done\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
    expect(parseServerSentEvents(text)).toEqual([{ event: "done", data: "one\ntwo\nthree\nfour" }]);
    expect(formatSSE("", { event: "done" })).toBe("event: done\ndata: \n\n");
  });

  it("round-trips through the decoder however the bytes are split", () => {
    // Payloads without CR (a CR inside data is a line break on the wire) nor a leading space after the first line.
    const payload = fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replace(/\r/g, ""));
    fc.assert(
      fc.property(
        fc.array(payload, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (payloads, cuts) => {
          const bytes = new TextEncoder().encode(payloads.map((payload) => formatSSE(payload)).join(""));
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const decoder = new SSEDecoder();
          const events = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            events.push(...decoder.push(bytes.subarray(from, to)));
            from = to;
          }
          events.push(...decoder.end());
          // An empty payload is an event with one empty data line: it is dispatched as "".
          expect(events.map(({ data }) => data)).toEqual(payloads);
        },
      ),
    );
  });
});

describe("parseServerSentEvents", () => {
  it("ignores comments, other fields and events without data; accepts CRLF and no space after the colon", () => {
    const text = ": keep-alive\r\n\r\nevent: ping\r\nid: 3\r\n\r\ndata:x\r\nretry: 10\r\ndata:  y\r\n\r\n";
    expect(dataOf(text)).toEqual(["x\n y"]);
  });

  it("leaves out an event not terminated by a blank line (a cut stream)", () => {
    expect(dataOf("data: a\n\ndata: b\n")).toEqual(["a"]);
  });

  it("gives the same events as the incremental decoder fed one character at a time, even inside CRLF", () => {
    const text = "data: first\r\n\r\ndata: sec\r\ndata: ond\r\n\r\ndata: [DONE]\r\n\r\n";
    const decoder = new SSEDecoder();
    const events = [...text].flatMap((char) => decoder.push(char));
    expect(events).toEqual(parseServerSentEvents(text));
    expect(events.map(({ data }) => data)).toEqual(["first", "sec\nond", "[DONE]"]);
  });

  it("readServerSentEvents decodes byte chunks split inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode(formatSSE("héllo 👋"));
    async function* pieces() {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const payloads: string[] = [];
    for await (const { data } of readServerSentEvents(pieces())) payloads.push(data);
    expect(payloads).toEqual(["héllo 👋"]);
  });
});
