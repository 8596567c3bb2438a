/**
 * What both backends do alike, through the one attempt runner
 * (upstream-attempts.ts): retries with Retry-After up to the bound, one
 * deadline per attempt, and aborts that close the upstream connection. Each
 * kind's own protocol and how it reads failures are tested in its folder.
 */
import { type AskRequest, ErrorCode } from "@chatgptchatbot/core";
import { askRequest, drain, rejection } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import {
  type AskingBackend,
  type BackendKindUnderTest,
  backendUnderTest,
  CHATGPT_WEB,
  type FakeUpstream,
  OPENAI,
} from "../test/backend-under-test.js";
import { MAX_RETRY_AFTER_MS } from "./http/retry.js";
import type { UpstreamOptions } from "./upstream-options.js";

const KINDS: BackendKindUnderTest<FakeUpstream, UpstreamOptions, AskingBackend>[] = [OPENAI, CHATGPT_WEB];

for (const kind of KINDS) {
  describe(`${kind.name}, like every backend`, () => {
    const suite = backendUnderTest(kind);
    const { backend } = suite;
    /** An ask with a session config of this kind. */
    const ask = (overrides: Partial<AskRequest> = {}) => askRequest({ config: kind.config(), ...overrides });

    describe("retries", () => {
      it("retries 429 and 5xx, waiting for Retry-After, and succeeds", async () => {
        const { backend: b, delays, logger } = backend();
        suite.fake.enqueueFault({ kind: "status", status: 429, retryAfter: 3 }, { kind: "status", status: 503 });
        const { text } = await drain(b.ask(ask({ prompt: "again" })));
        expect(text).toBe("echo: again");
        expect(suite.fake.requests).toHaveLength(3);
        expect(delays[0]).toBe(3000); // the upstream's Retry-After
        expect(delays[1]).toBeGreaterThanOrEqual(750); // second backoff step: 1 s minus jitter
        expect(delays[1]).toBeLessThanOrEqual(1000);
        expect(logger.lines.filter((l) => l.msg === "upstream request failed, retrying")).toHaveLength(2);
      });

      it("stops at the retry bound and reports the last failure", async () => {
        const { backend: b, delays } = backend({ maxRetries: 2 });
        suite.fake.enqueueFault(
          { kind: "status", status: 500 },
          { kind: "status", status: 502, message: "bad gateway" },
          { kind: "status", status: 503, message: "overloaded", retryAfter: 7 },
          { kind: "status", status: 500 },
        );
        const error = await rejection(drain(b.ask(ask())));
        expect(suite.fake.requests).toHaveLength(3);
        expect(delays).toHaveLength(2);
        expect(error).toMatchObject({ code: ErrorCode.Upstream, upstreamStatus: 503, retryAfterMs: 7000 });
        expect(error.message).toBe("the upstream answered 503: overloaded");
      });

      it("does not hold the request for a Retry-After beyond a minute: reports it at once", async () => {
        const { backend: b, delays } = backend();
        suite.fake.enqueueFault({ kind: "status", status: 429, retryAfter: MAX_RETRY_AFTER_MS / 1000 + 60 });
        const error = await rejection(drain(b.ask(ask())));
        expect(suite.fake.requests).toHaveLength(1);
        expect(delays).toEqual([]);
        expect(error).toMatchObject({
          code: ErrorCode.Upstream,
          upstreamStatus: 429,
          retryAfterMs: MAX_RETRY_AFTER_MS + 60_000,
        });
      });

      it("maxRetries 0 means one attempt", async () => {
        const { backend: b } = backend({ maxRetries: 0 });
        suite.fake.enqueueFault({ kind: "status", status: 500 });
        await rejection(drain(b.ask(ask())));
        expect(suite.fake.requests).toHaveLength(1);
      });
    });

    describe("the deadline", () => {
      it("an upstream that never answers → Upstream timeout, the connection closed, not retried", async () => {
        const { backend: b, delays } = backend({ requestTimeoutMs: 150 });
        suite.fake.enqueueFault({ kind: "hang" });
        const error = await rejection(drain(b.ask(ask())));
        expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream timed out after 150 ms" });
        expect(error.upstreamStatus).toBeUndefined();
        await suite.fake.waitForAbort(2000);
        expect(suite.fake.requests).toHaveLength(1);
        expect(delays).toEqual([]);
      });

      it("is a total deadline: a reply whose every event comes in time but whose whole takes longer → Upstream timeout", async () => {
        const { backend: b, logger } = backend({ requestTimeoutMs: 400 });
        // 13-14 events 60 ms apart: no gap is near the timeout, the whole reply (~750 ms) is well past it.
        suite.fake.enqueueFault({ kind: "trickle", intervalMs: 60 });
        const prompt = "one two three four five six seven eight nine ten";
        const started = performance.now();
        const deltas: string[] = [];
        const error = await rejection(
          (async () => {
            for await (const part of b.ask(ask({ prompt }))) {
              if (part.type === "text") deltas.push(part.text);
            }
          })(),
        );
        const elapsed = performance.now() - started;
        expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream timed out after 400 ms" });
        expect(error.upstreamStatus).toBeUndefined();
        expect(deltas.length).toBeGreaterThan(1); // events were arriving when the deadline cut the reply
        expect(deltas.join("")).not.toBe(`echo: ${prompt}`);
        expect(elapsed).toBeGreaterThanOrEqual(390);
        expect(elapsed).toBeLessThan(700);
        await suite.fake.waitForAbort(2000); // the upstream connection was closed
        expect(suite.fake.requests).toHaveLength(1); // a timed-out attempt is not retried
        expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.obj)).toEqual([
          expect.objectContaining({ err: "the upstream timed out after 400 ms" }),
        ]);
      });
    });

    describe("abort", () => {
      it("aborting while the reply streams closes the upstream connection and rejects with Aborted", async () => {
        const fake = await suite.restartFake({ chunkDelayMs: 200 });
        const { backend: b, logger } = backend();
        const controller = new AbortController();
        const stream = b.ask(ask({ prompt: "one two three four five", signal: controller.signal }));
        expect((await stream.next()).done).toBe(false);
        controller.abort();
        expect((await rejection(drain(stream))).code).toBe(ErrorCode.Aborted);
        await fake.waitForAbort(2000);
        expect(fake.abortedRequests).toBe(1);
        expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]); // a cancel is not an upstream failure
      });

      it("aborting before the upstream answers closes the connection too", async () => {
        const { backend: b } = backend();
        suite.fake.enqueueFault({ kind: "hang" });
        const controller = new AbortController();
        const pending = rejection(drain(b.ask(ask({ signal: controller.signal }))));
        while (suite.fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
        controller.abort();
        expect((await pending).code).toBe(ErrorCode.Aborted);
        await suite.fake.waitForAbort(2000);
      });

      it("a consumer that stops reading early closes the upstream connection", async () => {
        const fake = await suite.restartFake({ chunkDelayMs: 200 });
        const { backend: b } = backend();
        const stream = b.ask(ask({ prompt: "one two three four five" }));
        expect((await stream.next()).done).toBe(false);
        await stream.return(undefined);
        await fake.waitForAbort(2000);
        expect(fake.abortedRequests).toBe(1);
      });

      it("a caller abort during a trickling reply is still an abort, not a timeout", async () => {
        const { backend: b, logger } = backend({ requestTimeoutMs: 5000 });
        suite.fake.enqueueFault({ kind: "trickle", intervalMs: 60 });
        const controller = new AbortController();
        const stream = b.ask(ask({ prompt: "one two three four five six", signal: controller.signal }));
        expect((await stream.next()).done).toBe(false);
        controller.abort();
        expect((await rejection(drain(stream))).code).toBe(ErrorCode.Aborted);
        await suite.fake.waitForAbort(2000);
        expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]);
      });

      it("an already aborted signal sends nothing", async () => {
        const { backend: b } = backend();
        const error = await rejection(drain(b.ask(ask({ signal: AbortSignal.abort() }))));
        expect(error.code).toBe(ErrorCode.Aborted);
        expect(suite.fake.requests).toHaveLength(0);
      });
    });
  });
}
