/**
 * The scenarios every foreign gRPC client runs against the real program: the
 * old service's lifecycle with its exact status codes, and a client deadline.
 * A client is a program taking `HOST:PORT SCRIPT_JSON` (see
 * ./python/chatbot_client.py and ./go/chatbot_client.go) and printing one JSON
 * line per call; each suite says how to run its client.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProgram, startProgram } from "./program.js";

/** One call's outcome, as a client prints it. */
export type CallResult = { ok?: Record<string, string>; code?: string; details?: string };

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
    const { stdout } = await promisify(execFile)(command, [...args, target, JSON.stringify(script)], { timeout: 60_000 });
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
      openai = await startFakeOpenAI();
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
      const [created, chat, cooled, other, otherChat, emptyPrompt, unknown, badConfig, deleted, deletedAgain, emptyId] = results;

      expect(created!.ok!.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created!.ok!.initial_response ?? "").toBe("");
      expect(chat!.ok).toEqual({ response: "echo: 你好" }); // field 2 on the wire
      expect(cooled).toEqual({ code: "RESOURCE_EXHAUSTED", details: "cooling down: try again in 15 s" });
      expect(other!.ok!.session_id).not.toBe(created!.ok!.session_id);
      expect(otherChat!.ok).toEqual({ response: "echo: another key" }); // a different key is not slowed
      expect(emptyPrompt).toEqual({ code: "INVALID_ARGUMENT", details: "prompt is required" });
      expect(unknown).toEqual({ code: "NOT_FOUND", details: "session not found: 00000000-0000-4000-8000-000000000000" });
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
  });
}
