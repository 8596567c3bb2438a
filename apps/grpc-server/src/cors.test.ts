import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cors } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { withCors } from "./cors.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(origins: string[]): Promise<string> {
  const server = createServer(
    withCors({ origins }, (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("rpc");
    }),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const preflight = (url: string, origin: string) =>
  fetch(`${url}/muvtuber.chatbot.v2.ChatbotService/Chat`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-grpc-web",
    },
  });

describe("withCors", () => {
  it("answers a preflight from an allowed origin with the methods and headers gRPC-web and Connect need", async () => {
    const url = await serve(["https://app.example"]);
    const res = await preflight(url, "https://app.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const header of ["content-type", "connect-protocol-version", "x-grpc-web", "grpc-timeout", "authorization"])
      expect(allowed).toContain(header);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("exposes the gRPC and Connect response headers on calls", async () => {
    const url = await serve(["*"]);
    const res = await fetch(url, { method: "POST", headers: { origin: "https://any.example" } });
    expect(await res.text()).toBe("rpc");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase().split(/,\s*/);
    for (const header of cors.exposedHeaders) expect(exposed).toContain(header.toLowerCase());
    expect(exposed).toContain("grpc-status");
    expect(exposed).toContain("grpc-message");
  });

  it("gives no CORS headers to an origin not allowed, and refuses its preflight", async () => {
    const url = await serve(["https://app.example"]);
    expect((await preflight(url, "https://evil.example")).status).toBe(403);
    const res = await fetch(url, { method: "POST", headers: { origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("with no origins listed (a server holding a key, CHATBOT_CORS_ORIGINS unset), serves same-origin pages and refuses every other origin", async () => {
    const url = await serve([]);
    // Browsers send Origin on same-origin POSTs too; those need no CORS headers and must reach the RPC.
    const same = await fetch(`${url}/muvtuber.chatbot.v2.ChatbotService/Chat`, {
      method: "POST",
      headers: { origin: url },
    });
    expect(same.status).toBe(200);
    expect(await same.text()).toBe("rpc");
    expect(same.headers.get("access-control-allow-origin")).toBeNull();
    expect(same.headers.get("vary")).toBe("Origin");
    // Another origin: its preflight is refused, so the browser never sends the call.
    const other = await preflight(url, "https://other.example");
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight(url, url)).headers.get("access-control-allow-origin")).toBeNull();
    const call = await fetch(url, { method: "POST", headers: { origin: "https://other.example" } });
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("leaves requests without Origin alone", async () => {
    const url = await serve(["https://app.example"]);
    const res = await fetch(url, { method: "POST" });
    expect(await res.text()).toBe("rpc");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
