import { afterEach, describe, expect, it } from "vitest";
import { chunkTokens } from "./chunk-text.js";
import { type FakeOpenAI, type FakeOpenAIOptions, startFakeOpenAI } from "./fake-openai.js";
import { SAMPLE_REASONING, SAMPLE_REPLIES } from "./sample-replies.js";
import { parseSSE } from "./sse.js";

/** Reply bodies are read loosely in assertions. */
const json = (res: Response): Promise<any> => res.json();

interface Delta {
  role?: string;
  content?: string | null;
  reasoning_content?: string;
  reasoning?: string;
}

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeOpenAIOptions): Promise<FakeOpenAI> {
  fake = await startFakeOpenAI(options);
  return fake;
}

function chat(server: FakeOpenAI, stream: boolean): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-test-realistic", "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-reasoner", messages: [{ role: "user", content: "晚上好" }], stream }),
  });
}

/** The deltas of a streamed reply, without the role chunk and the finish chunk. */
async function deltas(res: Response): Promise<Delta[]> {
  const payloads = parseSSE(await res.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  const chunks = payloads
    .slice(0, -1)
    .map((data) => JSON.parse(data) as { choices: { delta: Delta; finish_reason: string | null }[] });
  expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
  expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  return chunks.slice(1, -1).map((chunk) => chunk.choices[0]?.delta ?? {});
}

describe("startFakeOpenAI: realistic streaming", () => {
  it.each(Object.entries(SAMPLE_REPLIES))("streams the %s sample 1–4 characters per event", async (_language, text) => {
    const server = await start({ reply: () => text, pieces: "tokens" });
    const content = (await deltas(await chat(server, true))).map((delta) => delta.content ?? "");
    expect(content.join("")).toBe(text);
    expect(content).toEqual(chunkTokens(text));
    for (const piece of content) expect([...piece].length).toBeLessThanOrEqual(4);
  });

  it("spaces the events chunkDelayMs apart and records when each was sent", async () => {
    const server = await start({ reply: () => "你好！欢迎。", pieces: "tokens", chunkDelayMs: 20 });
    await (await chat(server, true)).text();
    const times = server.eventTimes[0] ?? [];
    // role, the pieces, finish, [DONE]
    expect(times).toHaveLength(chunkTokens("你好！欢迎。").length + 3);
    for (let index = 1; index < times.length; index++) {
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(19);
    }
  });

  it("sends reasoning_content deltas (content null) before the reply", async () => {
    const server = await start({
      reply: () => SAMPLE_REPLIES.zh,
      pieces: "tokens",
      reasoning: { form: "reasoning_content", text: SAMPLE_REASONING.zh },
    });
    const all = await deltas(await chat(server, true));
    const thinking = all.filter((delta) => delta.reasoning_content !== undefined);
    expect(thinking.map((delta) => delta.reasoning_content).join("")).toBe(SAMPLE_REASONING.zh);
    for (const delta of thinking) expect(delta.content).toBeNull();
    expect(all.slice(0, thinking.length)).toEqual(thinking);
    expect(
      all
        .slice(thinking.length)
        .map((delta) => delta.content)
        .join(""),
    ).toBe(SAMPLE_REPLIES.zh);
  });

  it("sends reasoning deltas (content empty) before the reply", async () => {
    const server = await start({
      reply: () => SAMPLE_REPLIES.en,
      reasoning: { form: "reasoning", text: () => SAMPLE_REASONING.en },
    });
    const all = await deltas(await chat(server, true));
    const thinking = all.filter((delta) => delta.reasoning !== undefined);
    expect(thinking.map((delta) => delta.reasoning).join("")).toBe(SAMPLE_REASONING.en);
    for (const delta of thinking) expect(delta.content).toBe("");
    expect(
      all
        .slice(thinking.length)
        .map((delta) => delta.content)
        .join(""),
    ).toBe(SAMPLE_REPLIES.en);
  });

  it("puts <think>…</think> at the start of the content, cut across events like any text", async () => {
    const server = await start({
      reply: () => SAMPLE_REPLIES.en,
      pieces: "tokens",
      reasoning: { form: "think-tag", text: SAMPLE_REASONING.en },
    });
    const content = (await deltas(await chat(server, true))).map((delta) => delta.content ?? "");
    expect(content.join("")).toBe(`<think>\n${SAMPLE_REASONING.en}\n</think>\n\n${SAMPLE_REPLIES.en}`);
    expect(content).not.toContain("<think>");
  });

  it("answers non-streaming requests with the reasoning in the message and counts its tokens", async () => {
    const server = await start({
      reply: () => "好的。",
      reasoning: { form: "reasoning_content", text: SAMPLE_REASONING.zh },
    });
    const body = await json(await chat(server, false));
    expect(body.choices[0].message).toMatchObject({
      role: "assistant",
      content: "好的。",
      reasoning_content: SAMPLE_REASONING.zh,
    });
    expect(body.usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(10);
    expect(body.usage.completion_tokens).toBeGreaterThan(body.usage.completion_tokens_details.reasoning_tokens);
  });

  it("sends no reasoning when the reasoning text is empty", async () => {
    const server = await start({ reply: () => "ok", reasoning: { form: "think-tag", text: "" } });
    const content = (await deltas(await chat(server, true))).map((delta) => delta.content ?? "");
    expect(content.join("")).toBe("ok");
  });
});
