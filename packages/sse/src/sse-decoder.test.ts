import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readServerSentEventBatches, readServerSentEvents, SSEDecoder } from "./sse-decoder.js";

const bytes = (text: string) => new TextEncoder().encode(text);

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array | string> {
  for (const part of parts) yield part;
}

async function collect(...parts: (string | Uint8Array)[]) {
  const events = [];
  for await (const event of readServerSentEvents(chunks(...parts))) events.push(event);
  return events;
}

describe("SSEDecoder", () => {
  it("dispatches an event at each blank line", async () => {
    expect(await collect('data: {"a":1}\n\ndata: [DONE]\n\n')).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: "[DONE]" },
    ]);
  });

  it("joins data lines, keeps the event name, skips comments, id and retry", async () => {
    expect(await collect(": ping\nevent: delta\nid: 7\nretry: 100\ndata: one\ndata:two\n\n")).toEqual([
      { event: "delta", data: "one\ntwo" },
    ]);
  });

  it("accepts CRLF, LF and CR line ends, even a CRLF split across chunks", async () => {
    expect(await collect("data: a\r", "\n\r\ndata: b\rdata: c\r\r", "data: d\n\n")).toEqual([
      { event: undefined, data: "a" },
      { event: undefined, data: "b\nc" },
      { event: undefined, data: "d" },
    ]);
  });

  it("reassembles a multi-byte character split across chunks", async () => {
    const all = bytes("data: 你好\n\n");
    expect(await collect(all.subarray(0, 8), all.subarray(8))).toEqual([{ event: undefined, data: "你好" }]);
  });

  it("skips a leading BOM and drops only one space after the colon", async () => {
    expect(await collect("\uFEFFdata:  two spaces\n\n")).toEqual([{ event: undefined, data: " two spaces" }]);
  });

  it("dispatches a last event that lacks its blank line when the stream ends", async () => {
    expect(await collect("data: [DONE]")).toEqual([{ event: undefined, data: "[DONE]" }]);
  });

  it("ignores blank lines with no data", () => {
    const decoder = new SSEDecoder();
    expect(decoder.push("\n\n\n")).toEqual([]);
    expect(decoder.end()).toEqual([]);
  });
});

describe("readServerSentEventBatches", () => {
  it("gives each chunk's completed events together, skips chunks that complete none, and ends with the last one", async () => {
    const batches = [];
    for await (const batch of readServerSentEventBatches(
      chunks("data: a\n\ndata: b\n\ndata: c", "\n\n", "data: d\n", "\ndata: e"),
    )) {
      batches.push(batch.map((event) => event.data));
    }
    expect(batches).toEqual([["a", "b"], ["c"], ["d"], ["e"]]);
  });

  it("reads any stream of fields the same as a line-by-line reading of the spec, however it is cut", () => {
    const value = fc.string({ unit: fc.constantFrom("a", " ", ":", "你", "d", "\u00e9"), maxLength: 6 });
    const line = fc.oneof(
      value.map((v) => `data:${v}`),
      value.map((v) => `data: ${v}`),
      fc.constant("data"),
      value.map((v) => `event: ${v}`),
      value.map((v) => `: ${v}`),
      value.map((v) => `id: ${v}`),
      value.map((v) => `datax: ${v}`),
      fc.constant(""),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 12 }),
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.integer({ min: 1, max: 7 }),
        (lines, eol, size) => {
          const text = `${lines.join(eol)}${eol}${eol}`;
          // The spec, one line at a time: data lines joined with LF, an event per blank line that follows data.
          const expected: { event: string | undefined; data: string }[] = [];
          let data: string[] = [];
          let event: string | undefined;
          for (const l of [...lines, ""]) {
            if (l === "") {
              if (data.length > 0) expected.push({ event, data: data.join("\n") });
              data = [];
              event = undefined;
              continue;
            }
            if (l.startsWith(":")) continue;
            const colon = l.indexOf(":");
            const field = colon === -1 ? l : l.slice(0, colon);
            let v = colon === -1 ? "" : l.slice(colon + 1);
            if (v.startsWith(" ")) v = v.slice(1);
            if (field === "data") data.push(v);
            else if (field === "event") event = v;
          }
          const decoder = new SSEDecoder();
          const got = [];
          for (let at = 0; at < text.length; at += size) got.push(...decoder.push(bytes(text.slice(at, at + size))));
          got.push(...decoder.end());
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
