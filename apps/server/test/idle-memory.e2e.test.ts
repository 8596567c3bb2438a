/**
 * The idle memory reducer in the built program (issue 10): session calls keep
 * it from running, even when they leave the event loop mostly idle; once they
 * stop for CHATBOT_IDLE_GC_AFTER, one
 * memory-reducing GC runs (its debug line) and RSS goes down. Health checks
 * meanwhile do not count as calls.
 */
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltProgram, startBuiltProgram } from "./built-program.js";

// Long enough that no gap between two paced chats reaches it, even when the machine is busy.
const IDLE_GC_AFTER_S = 2;
const GIVEN_BACK = "idle: heap given back to the system";

let openai: FakeOpenAI;
let program: BuiltProgram;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  program = await startBuiltProgram({
    env: {
      API_URL: openai.url,
      OPENAI_API_KEYS: "sk-test-idle-memory-0001",
      CHATGPT_V3_COOLDOWN: "0",
      CHATBOT_IDLE_GC_AFTER: String(IDLE_GC_AFTER_S),
      LOG_LEVEL: "debug",
      // A young generation that grows under load, as with Node's defaults: something to give back.
      NODE_OPTIONS: "--max-semi-space-size=16",
    },
  });
});

afterAll(async () => {
  await program?.stop();
  await openai?.close();
});

const reductions = () => program.logs.filter((line) => line.msg === GIVEN_BACK);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the idle memory reducer in the program", () => {
  it("does not run while chats keep coming, runs once they stop, and gives memory back", async () => {
    // Let the reduction after start happen first (the start itself counts as busy).
    for (let i = 0; i < 100 && reductions().length === 0; i++) await sleep(100);
    const afterStart = reductions().length;

    // 3 s of chats back to back (garbage to give back; the event loop is busy too), then 6 s of a chat every 250 ms:
    // the loop is mostly idle then, and only the calls themselves keep the reducer from running.
    const ask = async (n: number) => {
      const reply = await fetch(`${program.httpUrl}/ask`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: `hello ${n} ${"word ".repeat(500)}` }),
      });
      expect(reply.status).toBe(200);
      await reply.text();
    };
    let chats = 0;
    // The program notes a call when the chat starts, so the quiet time counts from the last chat's start.
    let lastChatStarted = 0;
    const burstStarted = Date.now();
    while (Date.now() - burstStarted < 3_000) await ask(chats++);
    const pacedStarted = Date.now();
    let paced = 0;
    while (Date.now() - pacedStarted < 3 * IDLE_GC_AFTER_S * 1000) {
      lastChatStarted = Date.now();
      await ask(chats++);
      paced++;
      await sleep(250);
    }
    const loadEnded = Date.now();
    expect(chats).toBeGreaterThan(10);
    expect(paced).toBeGreaterThan(4);
    const duringLoad = reductions().filter((line) => Number(line.time) < loadEnded);
    expect(duringLoad.length).toBe(afterStart);

    // Then only health checks: the reduction follows within idle + two check intervals.
    const healthUntil = Date.now() + IDLE_GC_AFTER_S * 1000 * 3 + 2_000;
    while (Date.now() < healthUntil && reductions().length === afterStart) {
      expect((await fetch(`${program.httpUrl}/healthz`)).status).toBe(200);
      await sleep(25);
    }
    const after = reductions().slice(afterStart);
    expect(after.length).toBe(1);
    expect(after[0]!.level).toBe(20); // debug: routine, not news
    expect(Number(after[0]!.time)).toBeGreaterThanOrEqual(lastChatStarted + IDLE_GC_AFTER_S * 1000 - 50);
    expect(Number(after[0]!.rssAfterMiB)).toBeLessThan(Number(after[0]!.rssBeforeMiB));
  }, 60_000);
});
