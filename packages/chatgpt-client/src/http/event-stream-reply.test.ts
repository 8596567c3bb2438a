import { setTimeout as delay } from "node:timers/promises";
import { closeAfterEach, startScriptedServer } from "@chatgptchatbot/testkit/testing";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { EventStreamReply } from "./event-stream-reply.js";

const closers = closeAfterEach();

/** A server whose every reply is these event-stream bytes on keep-alive connections, `rest` 30 ms later. */
async function serverOf(text: string, rest = "") {
  const server = await startScriptedServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(text);
    void delay(30).then(() => res.end(rest));
  });
  closers.push(() => server.close());
  const dispatcher = new Agent();
  closers.push(() => dispatcher.destroy());
  return { server, open: async () => new EventStreamReply((await request(server.origin, { dispatcher })).body) };
}

describe("EventStreamReply", () => {
  it("gives the events before [DONE], none after, says done, and keeps the connection", async () => {
    const { server, open } = await serverOf("data: a\n\ndata: b\n\ndata: [DONE]\n\n", "data: after\n\n");
    for (let i = 0; i < 2; i++) {
      const reply = await open();
      const seen: string[] = [];
      for await (const events of reply) seen.push(...events.map((event) => event.data));
      expect(seen).toEqual(["a", "b"]);
      expect(reply.done).toBe(true);
      await delay(60); // the rest of the reply, drained
    }
    expect(server.connections()).toBe(1);
  });

  it("is not done when the stream ends without [DONE]", async () => {
    const { open } = await serverOf("data: a\n\n");
    const reply = await open();
    for await (const _ of reply);
    expect(reply.done).toBe(false);
  });

  it("closes the connection when the reader leaves before [DONE]", async () => {
    const { server, open } = await serverOf("data: a\n\n", "data: [DONE]\n\n");
    for (let i = 0; i < 2; i++) {
      const reply = await open();
      for await (const _ of reply) break;
      expect(reply.done).toBe(false);
      await delay(60); // past the reply's end: a drained connection would be free again
    }
    expect(server.connections()).toBeGreaterThan(1); // the first connection was not reused
  });
});
