import { ChatbotService } from "@chatgptchatbot/proto";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { serveScripted } from "../test/scripted-server.js";

const serve = serveScripted;

const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-metrics-endpoint" });

describe("createGrpcServer metrics", () => {
  it("serves GET /metrics from the source, refuses other methods, and the RPCs still work", async () => {
    const { url } = await serve({
      metrics: async () => ({ contentType: "text/plain; version=0.0.4", body: "up 1\n" }),
    });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    expect(await res.text()).toBe("up 1\n");
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(405);
    const client = createClient(ChatbotService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
    await expect(client.newSession({ config: CONFIG })).resolves.toMatchObject({ sessionId: expect.any(String) });
  });

  it("answers 503 when the source fails, and 404 without a source", async () => {
    const failing = await serve({
      metrics: async () => {
        throw new Error("collect failed");
      },
    });
    expect((await fetch(`${failing.url}/metrics`)).status).toBe(503);
    const none = await serve({});
    expect((await fetch(`${none.url}/metrics`)).status).toBe(404);
  });
});
