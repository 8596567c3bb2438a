/**
 * The harness of the backends' suites: each kind's fake upstream and how a
 * backend of that kind is built, and a fresh fake for every test. The two
 * kinds' own suites and the suite of what they do alike all use it.
 */
import type { AskPart, AskRequest, SessionConfig } from "@chatgptchatbot/core";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import {
  ACCESS_TOKEN,
  type Closers,
  closeAfterEach,
  type RecordingLogger,
  sessionConfig,
} from "@chatgptchatbot/testkit/testing";
import { beforeEach } from "vitest";
import { ChatGPTWebBackend, type ChatGPTWebBackendOptions } from "../src/chatgpt-web/chatgpt-web-backend.js";
import { OpenAIBackend, type OpenAIBackendOptions } from "../src/openai/openai-backend.js";
import type { UpstreamOptions } from "../src/upstream-options.js";
import { type BackendParts, backendParts } from "./backend-parts.js";

/** A fake upstream with what every backend suite asserts on. */
export type FakeUpstream = FakeOpenAI | FakeChatGPTWeb;

/** What every backend is to its tests: a stream of parts for each ask. */
export interface AskingBackend {
  ask(request: AskRequest): AsyncGenerator<AskPart, void, undefined>;
}

export interface BackendKindUnderTest<F extends FakeUpstream, O extends UpstreamOptions, B extends AskingBackend> {
  /** The class's name, for test names. */
  readonly name: string;
  /** This kind's fake upstream; `chunkDelayMs` makes it stream slowly (to abort mid-reply). */
  startFake(options?: { chunkDelayMs?: number }): Promise<F>;
  /** A backend of this kind over `parts`, whose server endpoint is `url`; `overrides` last. */
  build(parts: BackendParts, url: string, overrides: Partial<O>): B;
  /** A session config of this kind. */
  config(overrides?: Partial<SessionConfig>): SessionConfig;
}

export const OPENAI: BackendKindUnderTest<FakeOpenAI, OpenAIBackendOptions, OpenAIBackend> = {
  name: "OpenAIBackend",
  startFake: (options) => startFakeOpenAI(options),
  build: ({ dispatcher, options }, apiUrl, overrides) =>
    new OpenAIBackend({ dispatcher, apiUrl, ...options, ...overrides }),
  config: (overrides) => sessionConfig(overrides),
};

export const CHATGPT_WEB: BackendKindUnderTest<FakeChatGPTWeb, ChatGPTWebBackendOptions, ChatGPTWebBackend> = {
  name: "ChatGPTWebBackend",
  startFake: (options) => startFakeChatGPTWeb(options),
  build: ({ dispatcher, options }, baseUrl, overrides) =>
    new ChatGPTWebBackend({ dispatcher, baseUrl, ...options, ...overrides }),
  config: (overrides) =>
    sessionConfig({ kind: "access-token", version: 1, credentials: [ACCESS_TOKEN], filter: false, ...overrides }),
};

export interface BackendUnderTest<F extends FakeUpstream, O extends UpstreamOptions, B extends AskingBackend> {
  /** Closed after each test, the last pushed first. */
  readonly cleanup: Closers;
  /** This test's fake upstream: a fresh one for each test. */
  readonly fake: F;
  /** Closes this test's fake and starts another with `options` in its place. */
  restartFake(options: { chunkDelayMs?: number }): Promise<F>;
  /**
   * A backend at this test's fake (unless `overrides` names another
   * endpoint): a 10 s deadline, two retries, a recording logger and the waits
   * between retries recorded (`delays`) instead of slept.
   */
  backend(overrides?: Partial<O>): { backend: B; delays: number[]; logger: RecordingLogger };
}

/** Registers, in the calling suite, a fresh fake of `kind` before each test and the closing of all after it. */
export function backendUnderTest<F extends FakeUpstream, O extends UpstreamOptions, B extends AskingBackend>(
  kind: BackendKindUnderTest<F, O, B>,
): BackendUnderTest<F, O, B> {
  const cleanup = closeAfterEach();
  let current: F | undefined;
  const start = async (options?: { chunkDelayMs?: number }) => {
    const fake = await kind.startFake(options);
    cleanup.push(() => fake.close());
    current = fake;
    return fake;
  };
  beforeEach(async () => {
    await start();
  });
  const fake = (): F => {
    if (current === undefined) throw new Error("the fake upstream starts before each test: read it inside one");
    return current;
  };
  return {
    cleanup,
    get fake() {
      return fake();
    },
    async restartFake(options) {
      await fake().close();
      return start(options);
    },
    backend(overrides = {}) {
      const parts = backendParts(cleanup);
      return { backend: kind.build(parts, fake().url, overrides), delays: parts.delays, logger: parts.logger };
    },
  };
}
