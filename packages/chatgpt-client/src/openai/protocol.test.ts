import { ChatbotError } from "@chatgptchatbot/core";
import { API_KEY } from "@chatgptchatbot/testkit/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_SYSTEM_PROMPT } from "./default-persona.js";
import { buildMessages, chatCompletionsBody, completionContent, MessageJsonCache, readChunk } from "./protocol.js";

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

describe("chatCompletionsBody", () => {
  /** What the body must be: the request's params as JSON.stringify writes them. */
  function expected(request: Parameters<typeof chatCompletionsBody>[0]): string {
    const { model, temperature } = request;
    return JSON.stringify({
      model,
      messages: buildMessages(request),
      stream: true,
      ...(temperature === undefined ? {} : { temperature }),
    });
  }

  const text = fc.string({ unit: "binary", maxLength: 40 });
  const entry = fc.record({ role: fc.constantFrom("user" as const, "assistant" as const), content: text });

  it("is JSON.stringify of the params, byte for byte, whatever the texts and however often entries repeat", () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 8 }),
        fc.array(fc.nat(20), { maxLength: 4 }),
        fc.record({
          model: text,
          systemPrompt: fc.oneof(text, fc.constant(""), fc.constant("  ")),
          prompt: text,
          temperature: fc.option(fc.double(), { nil: undefined }),
        }),
        (entries, windows, rest) => {
          // One cache across chats of a session whose history slides, as the pool sends it.
          const cache = new MessageJsonCache();
          for (const start of [0, ...windows]) {
            const request = { ...rest, history: entries.slice(start % (entries.length + 1)) };
            expect(chatCompletionsBody(request, cache).toString("utf8")).toBe(expected(request));
            expect(chatCompletionsBody(request, cache).equals(Buffer.from(expected(request)))).toBe(true);
          }
        },
      ),
    );
  });

  it("escapes what JSON must: quotes, backslashes, control characters, lone surrogates", () => {
    const history = [
      { role: "user" as const, content: 'say "hi" \\ \n\u0000 \ud800 end' },
      { role: "assistant" as const, content: "line\nbreak\t\u2028 \udfff" },
    ];
    const request = { model: 'm"x', systemPrompt: "", history, prompt: "\u001f", temperature: 0.7 };
    const body = chatCompletionsBody(request, new MessageJsonCache()).toString("utf8");
    expect(body).toBe(expected(request));
    expect(JSON.parse(body).messages[0].content).toBe(DEFAULT_SYSTEM_PROMPT);
    expect(JSON.parse(body).messages.slice(1, 3)).toEqual(history);
  });

  it("serializes an entry once and gives its JSON again while it lives; the persona likewise", () => {
    const cache = new MessageJsonCache();
    const entry = { role: "user" as const, content: "主播 a" };
    const message = cache.entry(entry);
    expect(message).toEqual({ json: '{"role":"user","content":"主播 a"}', bytes: 36 });
    expect(cache.entry(entry)).toBe(message);
    // Another object with the same text is another entry (a store's entries are objects of their own).
    expect(cache.entry({ ...entry })).not.toBe(message);
    const persona = cache.system("be kind");
    expect(persona.json).toBe('{"role":"system","content":"be kind"}');
    expect(cache.system("be kind")).toBe(persona);
    expect(cache.system("be brief").json).toBe('{"role":"system","content":"be brief"}');
  });
});
