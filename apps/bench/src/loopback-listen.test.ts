import { createServer } from "node:http";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { listenOnLoopback } from "./loopback-listen.js";

describe("listenOnLoopback", () => {
  it("answers on 127.0.0.1 at the port the OS picked, and its close ends kept-alive connections", async () => {
    const server = createServer((_req, res) => res.end("ok"));
    const listener = await listenOnLoopback({ server, port: 0 });
    expect(listener.port).toBeGreaterThan(0);
    expect(listener.origin).toBe(`http://127.0.0.1:${listener.port}`);
    expect(server.keepAliveTimeout).toBe(60_000);
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    try {
      const answer = await request(listener.origin, { dispatcher: agent });
      expect(await answer.body.text()).toBe("ok");
      // The agent still holds its kept-alive socket: close must not wait for it.
      await listener.close();
      expect(server.listening).toBe(false);
    } finally {
      await agent.close();
    }
  });

  it("rejects when the port is taken", async () => {
    const first = await listenOnLoopback({ server: createServer(), port: 0 });
    try {
      await expect(listenOnLoopback({ server: createServer(), port: first.port })).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
    } finally {
      await first.close();
    }
  });
});
