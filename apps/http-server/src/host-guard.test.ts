import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { hostGuard } from "./host-guard.js";

const api = new Hono()
  .use(hostGuard({ allowHost: (host) => host.split(":")[0] === "localhost" }))
  .post("/ask", (c) => c.text("reply"));

const ask = (headers: Record<string, string>) => api.request("/ask", { method: "POST", body: "{}", headers });

describe("hostGuard", () => {
  it.each([
    ["Origin", { origin: "http://evil.test:9006" }],
    ["Sec-Fetch-Site", { "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Dest", { "sec-fetch-dest": "empty" }],
  ])("refuses a browser request (with %s) naming a foreign Host with 403", async (_name, headers) => {
    const res = await ask({ host: "evil.test:9006", ...headers });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("CHATBOT_ALLOWED_HOSTS");
  });

  it("serves a browser request naming an allowed Host", async () => {
    expect((await ask({ host: "localhost:9006", origin: "http://localhost:9006" })).status).toBe(200);
  });

  it("serves clients that are not browsers whatever Host they name", async () => {
    expect((await ask({ host: "chatbot:9006" })).status).toBe(200);
  });
});
