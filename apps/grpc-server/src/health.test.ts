import { Health } from "@chatgptchatbot/proto/health";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createHealthService, HealthStatus, ServingStatus } from "./health.js";

function setup() {
  const status = new HealthStatus();
  const client = createClient(
    Health,
    createRouterTransport((router) => router.service(Health, createHealthService(status))),
  );
  return { status, client };
}

describe("grpc.health.v1.Health", () => {
  it("answers SERVING for the server and for ChatbotService, NOT_FOUND for an unknown service", async () => {
    const { client } = setup();
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: "muvtuber.chatbot.v2.ChatbotService" })).status).toBe(ServingStatus.SERVING);
    const error = await client.check({ service: "no.Such" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("quotes an unknown service name short and escaped (a 100,000-character name)", async () => {
    const { client } = setup();
    const long = await client.check({ service: "s".repeat(100_000) }).then(
      () => new ConnectError("expected NOT_FOUND"),
      (e: unknown) => ConnectError.from(e),
    );
    expect([long.code, long.rawMessage]).toEqual([
      Code.NotFound,
      `unknown service "${"s".repeat(40)}…" (100000 characters)`,
    ]);
    const odd = await client.check({ service: "a\r\nb" }).then(
      () => new ConnectError("expected NOT_FOUND"),
      (e: unknown) => ConnectError.from(e),
    );
    expect(odd.rawMessage).toBe('unknown service "a\\u000d\\u000ab"');
  });

  it("answers NOT_SERVING once shutting down, and Watch streams see the change and end", async () => {
    const { client, status } = setup();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const response of client.watch({ service: "" })) {
        seen.push(response.status);
        if (seen.length === 1) status.shutdown();
      }
    })();
    await watching;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
  });

  it("watches an unknown service as SERVICE_UNKNOWN", async () => {
    const { client, status } = setup();
    const seen: ServingStatus[] = [];
    for await (const response of client.watch({ service: "no.Such" })) {
      seen.push(response.status);
      status.shutdown();
    }
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN]);
  });
});
