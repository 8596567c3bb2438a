import { ErrorCode } from "@chatgptchatbot/core";
import {
  type FakeOpenAI,
  type HttpProxy,
  startFakeChatGPTWeb,
  startFakeOpenAI,
  startHttpProxy,
} from "@chatgptchatbot/testkit";
import {
  ACCESS_TOKEN,
  askRequest,
  closeAfterEach,
  drain,
  recordingLogger,
  rejection,
  sessionConfig,
} from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { type BackendsOptions, createBackends } from "../backends.js";

const cleanup = closeAfterEach();

async function setup(
  proxyEnv: (proxy: HttpProxy, upstreams: { openai: FakeOpenAI }) => Record<string, string>,
  options: BackendsOptions = {},
) {
  const openai = await startFakeOpenAI();
  const web = await startFakeChatGPTWeb();
  const proxy = await startHttpProxy();
  cleanup.push(
    () => openai.close(),
    () => web.close(),
    () => proxy.close(),
  );
  const logger = recordingLogger();
  const backends = createBackends({
    apiUrl: openai.url,
    chatgptBaseUrl: web.url,
    maxRetries: 0,
    logger,
    proxyEnv: proxyEnv(proxy, { openai }),
    ...options,
  });
  cleanup.push(() => backends.close());
  return { openai, web, proxy, backends, logger };
}

const v1 = sessionConfig({ kind: "access-token", version: 1, credentials: [ACCESS_TOKEN] });
const hostOf = (url: string) => new URL(url).host;

describe("proxy routing", () => {
  it("sends both backends' traffic through HTTP_PROXY", async () => {
    const { openai, web, proxy, backends, logger } = await setup((p) => ({ HTTP_PROXY: p.url }));
    expect((await drain(backends.openai.ask(askRequest({ prompt: "via proxy" })))).text).toBe("echo: via proxy");
    expect((await drain(backends.chatgptWeb.ask(askRequest({ config: v1, prompt: "via proxy" })))).text).toBe(
      "echo: via proxy",
    );
    const targets = proxy.requests.map((r) => r.target);
    expect(targets.some((t) => t.includes(hostOf(openai.url)))).toBe(true);
    expect(targets.some((t) => t.includes(hostOf(web.url)))).toBe(true);
    expect(openai.requests).toHaveLength(1);
    expect(web.requests).toHaveLength(1);
    expect(logger.lines.find((l) => l.msg === "upstream traffic goes through a proxy")?.obj).toMatchObject({
      httpProxy: proxy.url,
    });
  });

  it("reads the lower-case variable too", async () => {
    const { proxy, backends } = await setup((p) => ({ http_proxy: p.url }));
    await drain(backends.openai.ask(askRequest()));
    expect(proxy.requests).toHaveLength(1);
  });

  it("bypasses the proxy for NO_PROXY hosts", async () => {
    const { openai, web, proxy, backends } = await setup((p) => ({
      HTTP_PROXY: p.url,
      NO_PROXY: "localhost,127.0.0.1",
    }));
    await drain(backends.openai.ask(askRequest()));
    await drain(backends.chatgptWeb.ask(askRequest({ config: v1 })));
    expect(openai.requests).toHaveLength(1);
    expect(web.requests).toHaveLength(1);
    expect(proxy.requests).toEqual([]);
  });

  it("NO_PROXY may name a host:port", async () => {
    const { openai, proxy, backends } = await setup((p, u) => ({ HTTP_PROXY: p.url, NO_PROXY: hostOf(u.openai.url) }));
    await drain(backends.openai.ask(askRequest()));
    expect(proxy.requests).toEqual([]);
    expect(openai.requests).toHaveLength(1);
  });

  it("uses HTTPS_PROXY for https upstreams only", async () => {
    const { openai, proxy, backends } = await setup((p) => ({ HTTPS_PROXY: p.url }));
    // An http upstream goes direct…
    await drain(backends.openai.ask(askRequest()));
    expect(proxy.requests).toEqual([]);
    // …an https one is tunnelled (CONNECT) through the proxy. The fake speaks plain HTTP, so the TLS handshake
    // inside the tunnel fails: that proves the route, and the failure is a typed Upstream error.
    const httpsUrl = `https://${hostOf(openai.url)}/v1`;
    const error = await rejection(
      drain(backends.openai.ask(askRequest({ config: sessionConfig({ baseUrl: httpsUrl }) }))),
    );
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toMatch(/^the TLS handshake with the upstream failed/);
    expect(proxy.requests).toEqual([{ method: "CONNECT", target: hostOf(openai.url) }]);
    const webError = await rejection(
      drain(backends.chatgptWeb.ask(askRequest({ config: { ...v1, baseUrl: `https://${hostOf(openai.url)}/api` } }))),
    );
    expect(webError.code).toBe(ErrorCode.Upstream);
    expect(webError.message).toMatch(/^the TLS handshake with the upstream failed/);
    expect(proxy.requests).toHaveLength(2);
  });

  it("a proxy that refuses the tunnel → Upstream, not an abort", async () => {
    // The test proxy refuses any host but loopback: ask it for one.
    const { proxy, backends } = await setup((p) => ({ HTTPS_PROXY: p.url }));
    const error = await rejection(
      drain(backends.chatgptWeb.ask(askRequest({ config: { ...v1, baseUrl: "https://chat.example.invalid/api" } }))),
    );
    expect(error.code).toBe(ErrorCode.Upstream);
    expect(error.message).toMatch(/proxy refused/);
    expect(proxy.requests).toEqual([{ method: "CONNECT", target: "chat.example.invalid:443" }]);
  });

  it("never logs the proxy's credentials", async () => {
    const { logger } = await setup(() => ({ HTTP_PROXY: "http://user:hunter2@127.0.0.1:9" }));
    expect(logger.text()).toContain("http://127.0.0.1:9");
    expect(logger.text()).not.toContain("hunter2");
  });
});
