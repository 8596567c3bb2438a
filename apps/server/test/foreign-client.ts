/**
 * The scenarios every foreign gRPC client runs against the real program: the
 * old service's lifecycle with its exact status codes, a client deadline, and
 * ChatStream (sentences arriving while the upstream still writes, errors,
 * cancel). The fake upstream writes one token-sized piece per event, an event
 * every 20 ms, as a real model does.
 * A client is a program taking `HOST:PORT SCRIPT_JSON` (see
 * ./python/chatbot_client.py and ./go/chatbot_client.go) and printing one JSON
 * line per call; each suite says how to run its client.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type FakeOpenAI, SAMPLE_REPLIES, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProgram, startProgram } from "./program.js";

/** One message of a streaming call, with when it arrived (ms since the epoch). */
export type StreamedMessage = { sentence?: string; response?: string; at: number };

/** One call's outcome, as a client prints it (`stream` for a streaming call, with the code it ended with). */
export type CallResult = { ok?: Record<string, string>; code?: string; details?: string; stream?: StreamedMessage[] };

/** The upstream's delay between two events in the streaming scenarios, as issue 12's "Done when" sets it. */
const EVENT_INTERVAL_MS = 20;
/** A prompt starting with this is answered with a multi-sentence reply (the rest of the prompt: its language). */
const STREAM_PROMPT = "stream: ";

export interface ForeignClient {
  /** For the suite's title and the test keys (`sk-test-<name>-0001`). */
  readonly name: string;
  /** Whether the client can run here; when not, the suite is skipped outside CI and fails in CI. */
  readonly available: boolean;
  /** Why it cannot run, and what to install. */
  readonly missing: string;
  /** Builds the client once, if it needs building; returns what to clean up. */
  readonly prepare?: () => Promise<() => Promise<void>>;
  /** The command and arguments that run the client. */
  readonly command: () => [string, ...string[]];
}

export function describeForeignClient(client: ForeignClient): void {
  if (!client.available && process.env.CI) throw new Error(`${client.missing} (required in CI)`);
  if (!client.available) console.warn(`skipping the ${client.name} client tests: ${client.missing}`);

  const run = async (target: string, script: unknown[]): Promise<CallResult[]> => {
    const [command, ...args] = client.command();
    const { stdout } = await promisify(execFile)(command, [...args, target, JSON.stringify(script)], {
      timeout: 60_000,
    });
    return stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as CallResult);
  };
  const key = (n: number) => `sk-test-${client.name.toLowerCase()}-000${n}`;

  describe.skipIf(!client.available)(`ChatbotService with a ${client.name} client`, () => {
    let openai: FakeOpenAI;
    let program: RunningProgram;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      cleanup = await client.prepare?.();
      openai = await startFakeOpenAI({
        pieces: "tokens",
        chunkDelayMs: EVENT_INTERVAL_MS,
        reply: ({ body }) => {
          const prompt = String((body as { messages: { content: string }[] }).messages.at(-1)?.content ?? "");
          if (!prompt.startsWith(STREAM_PROMPT)) return `echo: ${prompt}`;
          return SAMPLE_REPLIES[prompt.slice(STREAM_PROMPT.length) as keyof typeof SAMPLE_REPLIES] ?? SAMPLE_REPLIES.en;
        },
      });
      program = await startProgram({
        env: { API_URL: openai.url, CHATGPT_V3_COOLDOWN: "15", CHATBOT_MAX_RETRIES: "0" },
      });
    }, 300_000);

    afterAll(async () => {
      expect(await program?.stop()).toBe(0);
      await openai?.close();
      await cleanup?.();
    });

    it("drives the lifecycle and gets the old service's status codes", async () => {
      const target = new URL(program.grpcUrl).host;
      const config = (apiKey: string) => JSON.stringify({ version: 3, api_key: apiKey });
      const results = await run(target, [
        { method: "NewSession", request: { config: config(key(1)), initial_prompt: "You are a cat." } },
        { method: "Chat", request: { session_id: "$0.session_id", prompt: "你好" } },
        { method: "Chat", request: { session_id: "$0.session_id", prompt: "again, too soon" } },
        { method: "NewSession", request: { config: config(key(2)) } },
        { method: "Chat", request: { session_id: "$3.session_id", prompt: "another key" } },
        { method: "Chat", request: { session_id: "$0.session_id", prompt: "" } },
        { method: "Chat", request: { session_id: "00000000-0000-4000-8000-000000000000", prompt: "hi" } },
        { method: "NewSession", request: { config: "not json" } },
        { method: "DeleteSession", request: { session_id: "$0.session_id" } },
        { method: "DeleteSession", request: { session_id: "$0.session_id" } },
        { method: "DeleteSession", request: { session_id: "" } },
      ]);
      expect(results).toHaveLength(11);
      const [created, chat, cooled, other, otherChat, emptyPrompt, unknown, badConfig, deleted, deletedAgain, emptyId] =
        results;

      expect(created!.ok!.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created!.ok!.initial_response ?? "").toBe("");
      expect(chat!.ok).toEqual({ response: "echo: 你好" }); // field 2 on the wire
      expect(cooled).toEqual({ code: "RESOURCE_EXHAUSTED", details: "cooling down: try again in 15 s" });
      expect(other!.ok!.session_id).not.toBe(created!.ok!.session_id);
      expect(otherChat!.ok).toEqual({ response: "echo: another key" }); // a different key is not slowed
      expect(emptyPrompt).toEqual({ code: "INVALID_ARGUMENT", details: "prompt is required" });
      expect(unknown).toEqual({
        code: "NOT_FOUND",
        details: "session not found: 00000000-0000-4000-8000-000000000000",
      });
      expect(badConfig!.code).toBe("INVALID_ARGUMENT");
      expect(badConfig!.details).toMatch(/^version & access_token\|api_key is required: config is not valid JSON/);
      expect(deleted!.ok).toEqual({ session_id: created!.ok!.session_id });
      expect(deletedAgain!.code).toBe("NOT_FOUND");
      expect(emptyId).toEqual({ code: "INVALID_ARGUMENT", details: "session_id is required" });

      // What reached the upstream: the system prompt and the prompt, under each session's own key.
      const first = openai.requests[0]!;
      expect(first.headers.authorization).toBe(`Bearer ${key(1)}`);
      expect(first.body.messages).toEqual([
        { role: "system", content: "You are a cat." },
        { role: "user", content: "你好" },
      ]);
      expect(openai.requests[1]!.headers.authorization).toBe(`Bearer ${key(2)}`);
      expect(openai.requests).toHaveLength(2);
    });

    it("a client deadline ends the call with DEADLINE_EXCEEDED and aborts the upstream request", async () => {
      const target = new URL(program.grpcUrl).host;
      openai.enqueueFault({ kind: "hang" });
      const aborted = openai.abortedRequests;
      const results = await run(target, [
        { method: "NewSession", request: { config: JSON.stringify({ version: 3, api_key: key(3) }) } },
        { method: "Chat", request: { session_id: "$0.session_id", prompt: "never answered" }, timeout: 1 },
      ]);
      expect(results[0]!.ok!.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(results[1]!.code).toBe("DEADLINE_EXCEEDED");
      await openai.waitForAbort();
      expect(openai.abortedRequests).toBeGreaterThan(aborted);
    });

    it("ChatStream: the first sentence arrives before the upstream has sent half its events; the reply is Chat's", async () => {
      const target = new URL(program.grpcUrl).host;
      const config = (apiKey: string) => JSON.stringify({ version: 3, api_key: apiKey });
      const before = openai.eventTimes.length;
      const results = await run(target, [
        { method: "NewSession", request: { config: config(key(4)) } },
        { method: "NewSession", request: { config: config(key(5)) } },
        { method: "ChatStream", request: { session_id: "$0.session_id", prompt: `${STREAM_PROMPT}zh` } },
        { method: "Chat", request: { session_id: "$1.session_id", prompt: `${STREAM_PROMPT}zh` } },
        { method: "ChatStream", request: { session_id: "$0.session_id", prompt: "too soon" } },
        { method: "ChatStream", request: { session_id: "$1.session_id", prompt: "" } },
        { method: "ChatStream", request: { session_id: "00000000-0000-4000-8000-000000000000", prompt: "hi" } },
      ]);
      const [, , streamed, chat, cooled, emptyPrompt, unknown] = results;
      expect(streamed!.code).toBe("OK");
      const messages = streamed!.stream!;
      const last = messages.at(-1)!;
      // Every message but the last carries a sentence and no response; the last, Chat's reply and no sentence.
      expect(messages.length).toBeGreaterThan(3);
      for (const m of messages.slice(0, -1))
        expect([m.sentence !== undefined && m.sentence !== "", m.response ?? ""]).toEqual([true, ""]);
      expect(last.sentence ?? "").toBe("");
      expect(last.response).toBe(chat!.ok!.response);
      expect(last.response).toBe(SAMPLE_REPLIES.zh);
      const squeeze = (text: string) => text.replace(/\s+/g, "");
      expect(
        squeeze(
          messages
            .slice(0, -1)
            .map((m) => m.sentence)
            .join(""),
        ),
      ).toBe(squeeze(last.response!));

      // The fake's clock against the client's: the first sentence was in the client's hands before the upstream had
      // written half of its events.
      const times = openai.eventTimes[before]!;
      expect(times.length).toBeGreaterThan(20);
      const half = times[Math.floor(times.length / 2)]!;
      expect(messages[0]!.at).toBeLessThan(half);
      // And each sentence arrived while the reply was still being written, not all at the end.
      expect(messages[1]!.at).toBeLessThan(times.at(-1)!);

      // Errors before the first message: Chat's codes, and no message at all.
      // (the streamed reply took a few of the 15 s)
      expect(cooled).toEqual({
        stream: [],
        code: "RESOURCE_EXHAUSTED",
        details: expect.stringMatching(/^cooling down: try again in 1[0-5] s$/),
      });
      expect(emptyPrompt).toEqual({ stream: [], code: "INVALID_ARGUMENT", details: "prompt is required" });
      expect(unknown).toEqual({
        stream: [],
        code: "NOT_FOUND",
        details: "session not found: 00000000-0000-4000-8000-000000000000",
      });
    });

    it("ChatStream: an upstream that fails mid-reply ends the stream with UNAVAILABLE after its sentences; cancel aborts upstream", async () => {
      const target = new URL(program.grpcUrl).host;
      const config = (apiKey: string) => JSON.stringify({ version: 3, api_key: apiKey });
      openai.enqueueFault({ kind: "cut" });
      const failed = await run(target, [
        { method: "NewSession", request: { config: config(key(6)) } },
        { method: "ChatStream", request: { session_id: "$0.session_id", prompt: `${STREAM_PROMPT}en` } },
      ]);
      expect(failed[1]!.code).toBe("UNAVAILABLE");
      expect(failed[1]!.stream!.length).toBeGreaterThan(0);
      expect(failed[1]!.stream!.every((m) => m.response === undefined || m.response === "")).toBe(true);

      const aborted = openai.abortedRequests;
      const cancelled = await run(target, [
        { method: "NewSession", request: { config: config(key(7)) } },
        {
          method: "ChatStream",
          request: { session_id: "$0.session_id", prompt: `${STREAM_PROMPT}en` },
          cancel_after: 1,
        },
      ]);
      expect(cancelled[1]!.code).toBe("CANCELLED");
      expect(cancelled[1]!.stream!.map((m) => m.sentence)).toEqual(["Good evening, everyone!"]);
      await openai.waitForAbort(); // the fake saw its connection closed before the reply was written
      expect(openai.abortedRequests).toBeGreaterThan(aborted);
    });
  });
}
