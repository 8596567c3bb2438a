import { readServerSentEvents } from "@chatgptchatbot/chatgpt-client";
import { ChatbotError, type ChatStreamPart } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { acceptsEventStream, chatEventStream, sseEvent } from "./event-stream.js";

async function events(body: ReadableStream<Uint8Array>): Promise<{ event: string | undefined; data: string }[]> {
  const got: { event: string | undefined; data: string }[] = [];
  for await (const { event, data } of readServerSentEvents(body)) got.push({ event, data });
  return got;
}

describe("acceptsEventStream", () => {
  it("is true when text/event-stream is among the accepted types, whatever its case and parameters", () => {
    expect(acceptsEventStream("text/event-stream")).toBe(true);
    expect(acceptsEventStream("text/plain, Text/Event-Stream;q=0.5")).toBe(true);
    expect(acceptsEventStream(undefined)).toBe(false);
    expect(acceptsEventStream("*/*")).toBe(false);
    expect(acceptsEventStream("text/plain")).toBe(false);
    expect(acceptsEventStream("text/event-stream;q=0")).toBe(false);
    expect(acceptsEventStream("text/event-streamx")).toBe(false);
  });
});

describe("sseEvent", () => {
  it("writes the name, then one data line per line of the text, then a blank line", () => {
    expect(sseEvent("sentence", "你好！")).toBe("event: sentence\ndata: 你好！\n\n");
    expect(sseEvent("done", "one\ntwo\r\nthree\rfour")).toBe(
      "event: done\ndata: one\ndata: two\ndata: three\ndata: four\n\n",
    );
    expect(sseEvent("done", "")).toBe("event: done\ndata: \n\n");
  });

  it("reads back as the text itself (newlines as \\n) with an SSE decoder", async () => {
    const text = "line one\n\nline: three";
    const body = new Blob([sseEvent("done", text)]).stream();
    expect(await events(body)).toEqual([{ event: "done", data: text }]);
  });
});

describe("chatEventStream", () => {
  async function* chat(parts: ChatStreamPart[], failure?: unknown): AsyncGenerator<ChatStreamPart, void> {
    yield* parts;
    if (failure !== undefined) throw failure;
  }

  it("sends each sentence, then done with the whole reply, then ends", async () => {
    const parts = chat([
      { type: "sentence", text: "Two." },
      { type: "done", reply: "One. Two." },
    ]);
    const body = chatEventStream({ parts, first: { type: "sentence", text: "One." } });
    expect(await events(body)).toEqual([
      { event: "sentence", data: "One." },
      { event: "sentence", data: "Two." },
      { event: "done", data: "One. Two." },
    ]);
  });

  it("turns a failure after the first event into an error event with core's code and safe message, then ends", async () => {
    const seen: ChatbotError[] = [];
    const parts = chat([], ChatbotError.upstream("upstream answered 500: boom", { status: 500 }));
    const body = chatEventStream({ parts, first: { type: "sentence", text: "One." }, onError: (e) => seen.push(e) });
    expect(await events(body)).toEqual([
      { event: "sentence", data: "One." },
      { event: "error", data: JSON.stringify({ code: "upstream", message: "upstream answered 500: boom" }) },
    ]);
    expect(seen.map((e) => e.code)).toEqual(["upstream"]);
  });

  it("never shows a bug's details: internal with a generic message", async () => {
    const body = chatEventStream({
      parts: chat([], new TypeError("secret detail")),
      first: { type: "sentence", text: "One." },
    });
    const last = (await events(body)).at(-1);
    expect(last?.event).toBe("error");
    expect(JSON.parse(last?.data ?? "{}")).toEqual({ code: "internal", message: "internal error" });
  });

  it("returns the chat's iterator when the reader cancels (the client went away)", async () => {
    let closed = false;
    const parts = (async function* (): AsyncGenerator<ChatStreamPart, void> {
      try {
        yield { type: "sentence", text: "One." };
        yield { type: "sentence", text: "Two." };
      } finally {
        closed = true;
      }
    })();
    const first = await parts.next(); // as the app does: the first part is taken before the response
    const reader = chatEventStream({ parts, first: first.value as ChatStreamPart }).getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toBe(true);
  });
});
