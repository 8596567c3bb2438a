import { setTimeout as delay } from "node:timers/promises";
import { closeAfterEach, nextMacrotask, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { bodyStream } from "./body-stream.js";

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
  const reader = bodyStream(response.body).getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return Buffer.from(value!).toString();
}

describe("bodyStream", () => {
  it("streams a body to the end", async () => {
    const { server, dispatcher } = await lateEndServer(" and the rest");
    const response = await request(server.origin, { dispatcher });
    expect(await new Response(bodyStream(response.body)).text()).toBe("first and the rest");
  });

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

  it("errors when the connection drops mid-body", async () => {
    const server = await startScriptedServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial", () => res.destroy());
    });
    cleanup.push(() => server.close());
    const dispatcher = new Agent();
    cleanup.push(() => dispatcher.destroy());
    const response = await request(server.origin, { dispatcher });
    await expect(new Response(bodyStream(response.body)).text()).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
  });
});
