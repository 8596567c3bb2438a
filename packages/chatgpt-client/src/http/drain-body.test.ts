import { setTimeout as delay } from "node:timers/promises";
import { closeAfterEach, nextMacrotask, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { drain } from "./drain-body.js";

const cleanup = closeAfterEach();

/** Sends "first", then the rest of the reply only after a pause: a reader that stops after "first" must not wait for it. */
async function lateEndServer(rest: string) {
  const finished: boolean[] = [];
  const server = await startScriptedServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first");
    res.on("close", () => finished.push(res.writableFinished));
    void delay(30).then(() => res.end(rest));
  });
  cleanup.push(() => server.close());
  const dispatcher = new Agent();
  cleanup.push(() => dispatcher.destroy());
  return { server, dispatcher, finished };
}

async function readFirstChunkAndCancel(url: string, dispatcher: Agent): Promise<string> {
  const response = await request(url, { dispatcher });
  let first = "";
  for await (const chunk of response.body.iterator({ destroyOnReturn: false })) {
    first = Buffer.from(chunk).toString();
    break;
  }
  drain(response.body);
  return first;
}

describe("drain", () => {
  it("drains the rest of a cancelled body, so the connection is reused", async () => {
    const { server, dispatcher, finished } = await lateEndServer("small tail");
    expect(await readFirstChunkAndCancel(server.origin, dispatcher)).toBe("first");
    // The reply still completes on the server, then the same connection serves the next request.
    while (finished.length === 0) await nextMacrotask();
    await nextMacrotask();
    await readFirstChunkAndCancel(server.origin, dispatcher);
    expect(server.connections()).toBe(1);
    expect(finished[0]).toBe(true);
  });

  it("closes the connection when the rest is too large to be worth reading", async () => {
    const { server, dispatcher, finished } = await lateEndServer("x".repeat(1024 * 1024));
    await readFirstChunkAndCancel(server.origin, dispatcher);
    while (finished.length === 0) await nextMacrotask();
    await readFirstChunkAndCancel(server.origin, dispatcher);
    expect(server.connections()).toBeGreaterThan(1); // the first connection was not reused
  });

  it("leaves a body that has ended as it is", async () => {
    const { server, dispatcher } = await lateEndServer(" and the rest");
    const response = await request(server.origin, { dispatcher });
    expect(await response.body.text()).toBe("first and the rest");
    drain(response.body);
    expect(response.body.destroyed || response.body.readableEnded).toBe(true);
  });
});
