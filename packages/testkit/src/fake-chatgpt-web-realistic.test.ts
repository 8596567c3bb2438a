import { randomUUID } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { chunkTokens } from "./chunk-text.js";
import { type FakeChatGPTWeb, startFakeChatGPTWeb } from "./fake-chatgpt-web.js";
import { SAMPLE_REPLIES } from "./sample-replies.js";
import { parseSSE } from "./sse.js";

let fake: FakeChatGPTWeb | undefined;
afterEach(async () => {
  await fake?.close();
});

it('grows the reply 1–4 characters per event with pieces: "tokens"', async () => {
  fake = await startFakeChatGPTWeb({ reply: () => SAMPLE_REPLIES.zh, pieces: "tokens" });
  const res = await fetch(`${fake.url}/conversation`, {
    method: "POST",
    headers: { authorization: "Bearer access-token", "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({
      action: "next",
      messages: [{ id: randomUUID(), author: { role: "user" }, content: { content_type: "text", parts: ["晚上好"] } }],
      parent_message_id: randomUUID(),
      model: "text-davinci-002-render-sha",
    }),
  });
  const payloads = parseSSE(await res.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  const texts = payloads
    .slice(0, -1)
    .map((data) => (JSON.parse(data) as { message: { content: { parts: string[] } } }).message.content.parts[0] ?? "");
  // Cumulative parts: each event holds the whole reply so far, one token-sized piece longer; the last repeats it, finished.
  const pieces = chunkTokens(SAMPLE_REPLIES.zh);
  expect(texts).toHaveLength(pieces.length + 1);
  texts.slice(0, -1).forEach((text, index) => {
    expect(text).toBe(pieces.slice(0, index + 1).join(""));
  });
  expect(texts.at(-1)).toBe(SAMPLE_REPLIES.zh);
});
