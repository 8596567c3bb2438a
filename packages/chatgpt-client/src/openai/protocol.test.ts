import { ChatbotError } from "@chatgptchatbot/core";
import { API_KEY } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { buildMessages, completionContent, readChunk } from "./protocol.js";

const context = { credential: API_KEY, status: 200 };

describe("readChunk", () => {
  it("reads the content and reasoning deltas, the finish reason and usage", () => {
    const data = JSON.stringify({
      choices: [{ delta: { content: "Hi", reasoning_content: "think" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, completion_tokens_details: { reasoning_tokens: -1 } },
    });
    expect(readChunk({ event: undefined, data }, context)).toEqual({
      text: "Hi",
      reasoning: "think",
      finishReason: "stop",
      usage: { promptTokens: 3, completionTokens: 2 },
    });
  });

  it("throws Upstream with the reply's status for an error event or a chunk that is not JSON, the credential masked", () => {
    const reported = (() => {
      try {
        readChunk({ event: "error", data: JSON.stringify({ error: { message: `bad key ${API_KEY}` } }) }, context);
      } catch (error) {
        return error;
      }
    })();
    expect(reported).toBeInstanceOf(ChatbotError);
    expect((reported as ChatbotError).upstreamStatus).toBe(200);
    expect((reported as ChatbotError).message).not.toContain(API_KEY);
    expect(() => readChunk({ event: undefined, data: "{not json" }, context)).toThrow("malformed reply (invalid JSON)");
  });
});

describe("completionContent", () => {
  it("reads a whole completion, or says why it holds no reply", () => {
    expect(
      completionContent({ choices: [{ message: { content: "Hello", reasoning: "r" }, finish_reason: "length" }] }),
    ).toEqual({
      content: "Hello",
      reasoning: "r",
      finishReason: "length",
      usage: undefined,
    });
    expect(completionContent({ error: "overloaded" })).toEqual({
      problem: "the upstream reported an error: overloaded",
    });
    expect(completionContent(null)).toEqual({
      problem: "the upstream sent a malformed reply (no choices[0].message.content)",
    });
  });
});

describe("buildMessages", () => {
  it("sends the system prompt (the persona when empty), the history's roles and contents, then the prompt", () => {
    // A stored entry may carry more than role and content (token counts): only those two are sent.
    const stored = { role: "assistant" as const, content: "a", tokens: 1 };
    expect(buildMessages({ systemPrompt: " ", history: [stored], prompt: "b" })).toEqual([
      { role: "system", content: DEFAULT_SYSTEM_PROMPT },
      { role: "assistant", content: "a" },
      { role: "user", content: "b" },
    ]);
  });
});
