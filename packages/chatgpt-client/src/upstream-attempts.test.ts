import { type AskPart, ChatbotError, ErrorCode } from "@chatgptchatbot/core";
import { API_KEY, drain, recordingLogger, rejection } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { runUpstreamAttempts, type UpstreamAttemptsOptions, type UpstreamCall } from "./upstream-attempts.js";

const logFields = { backend: "test", credentialMasked: "sk-t…ab12" };

type Parts = readonly AskPart[];

/** The runner over scripted attempts: each `open` takes the next outcome (a reply's parts, or an error to throw). */
function run(
  outcomes: (Parts | Error)[],
  overrides: Partial<Pick<UpstreamAttemptsOptions<Parts>, "signal">> &
    Partial<Pick<UpstreamCall<Parts>, "open" | "read">> & { timeoutMs?: number } = {},
) {
  const logger = recordingLogger();
  const waits: number[] = [];
  const signals: AbortSignal[] = [];
  const ends: boolean[] = [];
  const call: UpstreamCall<Parts> = {
    backend: "openai",
    logFields,
    open: async (signal) => {
      signals.push(signal);
      const outcome = outcomes.shift();
      if (outcome === undefined) throw new Error("no more attempts scripted");
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    read: async function* (parts, readToEnd) {
      yield* parts;
      readToEnd();
      ends.push(true);
    },
    ...(overrides.open === undefined ? {} : { open: overrides.open }),
    ...(overrides.read === undefined ? {} : { read: overrides.read }),
  };
  const stream = runUpstreamAttempts<Parts>({
    credential: API_KEY,
    signal: overrides.signal ?? new AbortController().signal,
    settings: {
      requestTimeoutMs: overrides.timeoutMs ?? 1_000,
      maxRetries: 2,
      logger,
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
    prepare: () => call,
  });
  return { stream, logger, waits, signals, ends };
}

const busy = () => ChatbotError.upstream("the upstream answered 503: busy", { status: 503, retryAfterMs: 250 });
const finish: AskPart = { type: "finish" };

describe("runUpstreamAttempts", () => {
  it("retries a 503 after its Retry-After, logs the retry, then streams the reply", async () => {
    const { stream, logger, waits } = run([busy(), [{ type: "text", text: "hi" }, finish]]);
    expect((await drain(stream)).text).toBe("hi");
    expect(waits).toEqual([250]);
    expect(logger.lines).toEqual([
      {
        level: "info",
        obj: { ...logFields, retry: 1, delayMs: 250, err: "the upstream answered 503: busy" },
        msg: "upstream request failed, retrying",
      },
    ]);
  });

  it("gives up after maxRetries and logs the failure once, as a warning with the status", async () => {
    const { stream, logger, waits } = run([busy(), busy(), busy(), [finish]]);
    const error = await rejection(drain(stream));
    expect(error.upstreamStatus).toBe(503);
    expect(waits).toHaveLength(2);
    expect(logger.lines.map((line) => line.level)).toEqual(["info", "info", "warn"]);
    expect(logger.lines.at(-1)).toEqual({
      level: "warn",
      obj: { ...logFields, status: 503, err: "the upstream answered 503: busy" },
      msg: "upstream request failed",
    });
  });

  it("does not retry a 400, nor an error it cannot read (Internal)", async () => {
    const bad = ChatbotError.upstream("the upstream answered 400: no", { status: 400 });
    expect(await rejection(drain(run([bad, [finish]]).stream))).toBe(bad);
    const bug = run([new TypeError("a bug"), [finish]]);
    expect((await rejection(drain(bug.stream))).code).toBe(ErrorCode.Internal);
    expect(bug.waits).toEqual([]);
  });

  it("maps a refused connection to a safe Upstream reason and retries it", async () => {
    const refused = Object.assign(new Error(`connect ECONNREFUSED (key ${API_KEY})`), { code: "ECONNREFUSED" });
    const { stream, logger } = run([refused, refused, refused]);
    const error = await rejection(drain(stream));
    expect(error.message).toBe("could not connect to the upstream (ECONNREFUSED)");
    expect(logger.lines).toHaveLength(3);
    expect(logger.text()).not.toContain(API_KEY);
  });

  it("gives each attempt a fresh signal that the deadline aborts, and does not retry a timed-out attempt", async () => {
    const { stream, signals, waits } = run([], {
      timeoutMs: 20,
      open: (signal) => {
        signals.push(signal);
        return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    });
    const error = await rejection(drain(stream));
    expect(error.message).toBe("the upstream timed out after 20 ms");
    expect(signals).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("reports the caller's abort as Aborted, without a warning", async () => {
    const controller = new AbortController();
    const { stream, logger } = run([], {
      signal: controller.signal,
      open: (signal) => {
        queueMicrotask(() => controller.abort());
        return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    });
    expect((await rejection(drain(stream))).code).toBe(ErrorCode.Aborted);
    expect(logger.lines).toEqual([]);
  });

  it("withholds the finish of a reply the caller gave up on while it was read: Aborted, nothing to store", async () => {
    const controller = new AbortController();
    const { stream, logger } = run([], {
      signal: controller.signal,
      open: async () => [{ type: "text", text: "a" }, finish],
      read: async function* (parts, readToEnd) {
        for (const part of parts) {
          if (part.type === "finish") controller.abort();
          yield part;
        }
        readToEnd();
      },
    });
    const seen: AskPart[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of stream) seen.push(part);
      })(),
    );
    expect(error.code).toBe(ErrorCode.Aborted);
    expect(seen).toEqual([{ type: "text", text: "a" }]);
    expect(logger.lines).toEqual([]);
  });

  it("closes the attempt when the reply is left before its end, and not once it was read to the end", async () => {
    const early = run([[{ type: "text", text: "a" }, { type: "text", text: "b" }, finish]]);
    for await (const part of early.stream) {
      expect(part).toEqual({ type: "text", text: "a" });
      break;
    }
    expect(early.signals[0]?.aborted).toBe(true);
    expect(early.ends).toEqual([]);

    const whole = run([[{ type: "text", text: "a" }, finish]]);
    await drain(whole.stream);
    expect(whole.ends).toEqual([true]);
    expect(whole.signals[0]?.aborted).toBe(false);
  });

  it("sends nothing before the first next(), and passes what prepare throws on as it is, unlogged", async () => {
    const logger = recordingLogger();
    let prepared = 0;
    const invalid = ChatbotError.invalidArgument("base_url is not a valid http(s) URL");
    const stream = runUpstreamAttempts<Parts>({
      credential: API_KEY,
      signal: new AbortController().signal,
      settings: { requestTimeoutMs: 1_000, maxRetries: 2, logger },
      prepare: () => {
        prepared++;
        throw invalid;
      },
    });
    expect(prepared).toBe(0);
    expect(await rejection(stream.next())).toBe(invalid);
    expect(logger.lines).toEqual([]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("is Aborted at once for a caller that gave up before it started, and prepares nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const { stream, signals } = run([[finish]], { signal: controller.signal });
    expect((await rejection(drain(stream))).code).toBe(ErrorCode.Aborted);
    expect(signals).toEqual([]);
  });
});
