/**
 * Reasoning in the API-key backend: every form a thinking model sends it in
 * (`reasoning_content` and `reasoning` deltas, a leading `<think>…</think>`
 * in the content) leaves as reasoning parts, never as text, and is logged at
 * debug level only.
 */
import {
  type FakeOpenAI,
  type ReasoningForm,
  SAMPLE_REASONING,
  SAMPLE_REPLIES,
  startFakeOpenAI,
} from "@chatgptchatbot/testkit";
import { askRequest, closeAfterEach, drain, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { backendParts } from "../../test/backend-parts.js";
import { OpenAIBackend } from "./openai-backend.js";
import { MAX_LOGGED_REASONING_CHARS } from "./reasoning-log.js";

const cleanup = closeAfterEach();

function backend(apiUrl: string) {
  const { dispatcher, options, logger } = backendParts(cleanup);
  return { backend: new OpenAIBackend({ dispatcher, apiUrl, ...options, maxRetries: 0 }), logger };
}

async function fakeWith(form: ReasoningForm, reply: string, reasoning: string, chunkDelayMs = 0): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI({
    reply: () => reply,
    pieces: "tokens",
    chunkDelayMs,
    reasoning: { form, text: reasoning },
  });
  cleanup.push(() => fake.close());
  return fake;
}

/** A server answering every request with these raw event-stream bytes, each write its own chunk. */
async function sseServer(writes: readonly (string | Uint8Array)[]) {
  const server = await startScriptedServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const write of writes) res.write(write);
    res.end();
  });
  cleanup.push(() => server.close());
  return server;
}

const contentEvent = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const finishEvent = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;

describe("OpenAIBackend: reasoning", () => {
  const forms: ReasoningForm[] = ["reasoning_content", "reasoning", "think-tag"];
  const languages = ["zh", "en"] as const;
  it.each(forms.flatMap((form) => languages.map((language) => [form, language] as const)))(
    "%s (%s): the reasoning leaves as reasoning parts before the text, the text is the reply alone",
    async (form, language) => {
      const reply = SAMPLE_REPLIES[language];
      const reasoning = SAMPLE_REASONING[language];
      // Events 1 ms apart: chunks of their own, so the parts show the reply streamed as it arrives.
      const fake = await fakeWith(form, reply, reasoning, 1);
      const { backend: b, logger } = backend(fake.url);
      const drained = await drain(b.ask(askRequest({ prompt: "晚上好" })));
      expect(drained.text).toBe(reply);
      // The think-tag form has line breaks inside the tags: they belong to the reasoning.
      expect(drained.reasoning.trim()).toBe(reasoning);
      expect(drained.parts.filter((part) => part.type === "reasoning").length).toBeGreaterThan(1); // streamed, not held
      const firstText = drained.parts.findIndex((part) => part.type === "text");
      const lastReasoning = drained.parts.findLastIndex((part) => part.type === "reasoning");
      expect(lastReasoning).toBeLessThan(firstText);
      expect(drained.parts.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
      for (const delta of drained.deltas) expect(delta).not.toMatch(/<\/?think>|<th|k>/);
      // Debug level only, once per reply.
      const logged = logger.lines.filter((line) => JSON.stringify(line).includes(reasoning.slice(0, 10)));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        level: "debug",
        obj: { reasoning: drained.reasoning, reasoningChars: drained.reasoning.length },
      });
    },
  );

  it("a reply without reasoning logs none", async () => {
    const fake = await startFakeOpenAI({ reply: () => SAMPLE_REPLIES.en, pieces: "tokens" });
    cleanup.push(() => fake.close());
    const { backend: b, logger } = backend(fake.url);
    const drained = await drain(b.ask(askRequest()));
    expect(drained.reasoning).toBe("");
    expect(drained.text).toBe(SAMPLE_REPLIES.en);
    expect(logger.lines.filter((line) => "reasoning" in line.obj)).toEqual([]);
  });

  it("splits <think>…</think> however the content deltas cut the tags", async () => {
    const content = "<think>用户问好。Be warm.</think>\n\n你好！Hello there.";
    for (let cut = 1; cut < content.length; cut++) {
      const server = await sseServer([
        contentEvent(content.slice(0, cut)),
        contentEvent(content.slice(cut)),
        finishEvent,
      ]);
      const drained = await drain(backend(`${server.origin}/v1`).backend.ask(askRequest()));
      const expected = { cut, text: "你好！Hello there.", reasoning: "用户问好。Be warm." };
      expect({ cut, text: drained.text, reasoning: drained.reasoning }).toEqual(expected);
    }
  });

  it("splits <think>…</think> with every byte of the event stream sent on its own", async () => {
    const content = ["<th", "ink>想一想", "。</th", "ink> 好的！", "Sure."];
    const bytes = Buffer.from([...content.map(contentEvent), finishEvent].join(""), "utf8");
    const server = await sseServer([...bytes].map((byte) => Uint8Array.of(byte)));
    const drained = await drain(backend(`${server.origin}/v1`).backend.ask(askRequest()));
    expect(drained.text).toBe("好的！Sure.");
    expect(drained.reasoning).toBe("想一想。");
  });

  it("a <think> that is not at the start of the content is ordinary text", async () => {
    const server = await sseServer([contentEvent("I <think> so."), finishEvent]);
    const drained = await drain(backend(`${server.origin}/v1`).backend.ask(askRequest()));
    expect(drained.text).toBe("I <think> so.");
    expect(drained.reasoning).toBe("");
  });

  it("a non-streamed completion: every reasoning form is split off; finish reason and usage kept", async () => {
    const messages = [
      { content: "Hi!", reasoning_content: "greet back" },
      { content: "Hi!", reasoning: "greet back" },
      { content: "<think>greet back</think>\nHi!" },
    ];
    for (const message of messages) {
      const server = await startScriptedServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: "length" }],
            usage: { prompt_tokens: 12, completion_tokens: 7, completion_tokens_details: { reasoning_tokens: 3 } },
          }),
        );
      });
      cleanup.push(() => server.close());
      const drained = await drain(backend(`${server.origin}/v1`).backend.ask(askRequest()));
      expect(drained).toMatchObject({ text: "Hi!", reasoning: "greet back", finished: true });
      expect(drained.parts.at(-1)).toEqual({
        type: "finish",
        finishReason: "length",
        usage: { promptTokens: 12, completionTokens: 7, reasoningTokens: 3 },
      });
    }
  });

  it("logs at most a bounded head of long reasoning", async () => {
    const reasoning = "思考中。".repeat(5_000);
    const fake = await fakeWith("reasoning_content", "好的。", reasoning);
    const { backend: b, logger } = backend(fake.url);
    const drained = await drain(b.ask(askRequest()));
    expect(drained.reasoning).toBe(reasoning);
    const line = logger.lines.find((l) => "reasoningChars" in l.obj);
    expect(line).toMatchObject({ level: "debug", obj: { reasoningChars: reasoning.length } });
    expect(String(line?.obj.reasoning).length).toBe(MAX_LOGGED_REASONING_CHARS + 1);
  });

  it("ignores usage counts that are not non-negative integers", async () => {
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      const usage = { prompt_tokens: -1, completion_tokens: "7" };
      res.end(JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }], usage }));
    });
    cleanup.push(() => server.close());
    const drained = await drain(backend(`${server.origin}/v1`).backend.ask(askRequest()));
    expect(drained.parts.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
  });
});
