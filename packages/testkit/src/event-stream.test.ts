import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { AbortTracker } from "./abort-tracker.js";
import { pause, sendEventStream } from "./event-stream.js";
import { type LocalServer, startLocalServer } from "./local-server.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("sendEventStream", () => {
  it("leaves no close listener behind per paused event (Node warns at 11 on one response)", async () => {
    const counts: { before: number; after: number }[] = [];
    server = await startLocalServer({
      handler: async (_req, res: ServerResponse) => {
        const before = res.listenerCount("close");
        const events = Array.from({ length: 15 }, (_, i) => `data: ${i}\n\n`);
        await sendEventStream({ res, tracker: new AbortTracker(), events, intervalMs: 1 });
        counts.push({ before, after: res.listenerCount("close") });
      },
    });
    const response = await fetch(server.origin);
    const body = await response.text();
    expect(body.match(/^data: /gm)).toHaveLength(15);
    expect(counts).toHaveLength(1);
    expect(counts[0]!.after).toBeLessThanOrEqual(counts[0]!.before);
  });
});

describe("pause", () => {
  it("ends early, reporting the reply closed, when the client goes away", async () => {
    let paused: Promise<boolean> | undefined;
    server = await startLocalServer({
      handler: (_req, res) => {
        res.writeHead(200);
        res.flushHeaders();
        paused = pause(res, 60_000);
      },
    });
    const controller = new AbortController();
    await fetch(server.origin, { signal: controller.signal });
    controller.abort();
    expect(await paused).toBe(false);
  });
});
