import { request } from "node:http";
import { SessionPool } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBrowserRequest } from "./host-guard.js";
import { createGrpcServer, type GrpcServer } from "./server.js";

const CONFIG = JSON.stringify({ version: 3, api_key: "sk-test-guard" });

let pool: SessionPool;
let server: GrpcServer;
let port: number;

beforeAll(async () => {
  pool = new SessionPool({
    backends: () => new ScriptedBackend(),
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs: 0, accessTokenMs: 0 },
  });
  server = createGrpcServer({ pool, allowHost: (host) => host.split(":")[0] === "localhost", corsOrigins: ["*"] });
  port = (await server.listen({ host: "127.0.0.1", port: 0 })).port;
});

afterAll(async () => {
  await server?.close({ timeoutMs: 100 });
  await pool?.close();
});

/** A Connect NewSession over HTTP/1.1 with exactly these headers (fetch would not let the test set Host). */
function newSession(
  headers: Record<string, string>,
): Promise<{ status: number; body: string; cors: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/muvtuber.chatbot.v2.ChatbotService/NewSession",
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            cors: res.headers["access-control-allow-origin"] as string | undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ config: CONFIG }));
  });
}

describe("the host guard on the gRPC port", () => {
  it.each([
    ["Origin", { origin: "http://evil.test:8000" }],
    ["Sec-Fetch-Site", { "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Mode", { "sec-fetch-mode": "cors" }],
  ])(
    "refuses a browser request (with %s) naming a foreign Host: 403, readable through CORS",
    async (_name, headers) => {
      const res = await newSession({ host: `evil.test:${port}`, ...headers });
      expect(res.status).toBe(403);
      expect(res.body).toContain("CHATBOT_ALLOWED_HOSTS");
      // A cross-origin page can read why (the answer passes CORS); same-origin ones need no CORS.
      expect(res.cors).toBe("origin" in headers ? "*" : undefined);
    },
  );

  it("serves a browser request naming an allowed Host", async () => {
    const res = await newSession({ host: `localhost:${port}`, origin: `http://localhost:${port}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("sessionId");
  });

  it("serves clients that are not browsers whatever Host they name (a compose service name)", async () => {
    expect((await newSession({ host: `chatbot:${port}` })).status).toBe(200);
    const grpc = createClient(ChatbotService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    expect((await grpc.newSession({ config: CONFIG })).sessionId).not.toBe("");
  });
});

describe("isBrowserRequest", () => {
  it("is true with Origin or any Sec-Fetch-* header, false otherwise", () => {
    expect(isBrowserRequest({ origin: "null" })).toBe(true);
    expect(isBrowserRequest({ "sec-fetch-dest": "document" })).toBe(true);
    expect(isBrowserRequest({ host: "evil.test", "user-agent": "grpc-go/1.70" })).toBe(false);
  });
});
