/**
 * The browser playground, end to end: Debian's Chromium (driven by
 * playwright-core) loads the page from the gRPC server's port and talks to
 * the server over Connect and over gRPC-web; the server's backends talk to
 * the testkit's fake upstreams on 127.0.0.1. A second loopback server serves
 * the same page from another origin for the cross-origin (CORS) case.
 *
 * Time: the session pool reads a clock the test moves forward, so a chat
 * "after the cooldown" needs no waiting, and one "within it" is refused.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Backends, createBackends } from "@chatgptchatbot/chatgpt-client";
import { SessionPool } from "@chatgptchatbot/core";
import { createPlaygroundFallback, createPlaygroundHandler } from "@chatgptchatbot/playground";
import { type FakeChatGPTWeb, type FakeOpenAI, startFakeChatGPTWeb, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { type BrowserContext, chromium, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrpcServer, type GrpcServer } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const API_KEY_COOLDOWN_MS = 20_000;
const ACCESS_TOKEN_COOLDOWN_MS = 75_000;
const PROTOCOLS = [
  { id: "connect", label: "Connect" },
  { id: "grpc-web", label: "gRPC-web" },
] as const;
type Protocol = (typeof PROTOCOLS)[number]["id"];

/** The few browser globals the test reads inside the page. */
interface BrowserGlobals {
  readonly localStorage: { readonly length: number };
  readonly sessionStorage: { readonly length: number };
  readonly document: { readonly cookie: string };
}

// In CI the browser test must run (CI installs chromium): only a developer machine without it skips.
const skip = !existsSync(CHROMIUM) && !process.env.CI;
if (skip) console.warn(`playground e2e skipped: ${CHROMIUM} is missing (apt-get install chromium; CI installs it)`);

describe.skipIf(skip)("the browser playground against the server", { timeout: 60_000 }, () => {
  let openai: FakeOpenAI;
  let chatgptWeb: FakeChatGPTWeb;
  let backends: Backends;
  let pool: SessionPool;
  let server: GrpcServer;
  let serverUrl: string;
  /** The same page served from another loopback origin, which the server allows... */
  let otherOrigin: Server;
  let otherOriginUrl: string;
  /** ...and from a third one, which it does not. */
  let strangerOrigin: Server;
  let strangerOriginUrl: string;
  let context: BrowserContext;
  let userDataDir: string;
  /** How far the pool's clock is ahead of the wall clock. */
  let skewMs = 0;
  const advanceClock = (ms: number): void => {
    skewMs += ms;
  };

  beforeAll(async () => {
    [openai, chatgptWeb] = await Promise.all([startFakeOpenAI(), startFakeChatGPTWeb()]);

    [otherOrigin, otherOriginUrl] = await servePageElsewhere();
    [strangerOrigin, strangerOriginUrl] = await servePageElsewhere();

    backends = createBackends({ maxRetries: 0, requestTimeoutMs: 10_000 });
    pool = new SessionPool({
      backends: backends.resolve,
      sweepIntervalMs: 0,
      cooldown: { apiKeyMs: API_KEY_COOLDOWN_MS, accessTokenMs: ACCESS_TOKEN_COOLDOWN_MS },
      now: () => Date.now() + skewMs,
    });
    // Only the other origin is allowed: same-origin calls need no CORS, cross-origin ones must pass it.
    server = createGrpcServer({ pool, corsOrigins: [otherOriginUrl], fallback: createPlaygroundFallback() });
    serverUrl = (await server.listen({ host: "127.0.0.1", port: 0 })).url;

    userDataDir = mkdtempSync(join(tmpdir(), "playground-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 900 },
    });
    // Every wait below is for the page to settle after a call to 127.0.0.1; a stuck one should fail fast.
    context.setDefaultTimeout(15_000);
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close({ timeoutMs: 1_000 });
    await pool?.close();
    await backends?.close();
    for (const origin of [otherOrigin, strangerOrigin]) {
      await new Promise<void>((resolve) => (origin === undefined ? resolve() : origin.close(() => resolve())));
    }
    await Promise.all([openai?.close(), chatgptWeb?.close()]);
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** A plain node:http server on another loopback port serving only the page. */
  async function servePageElsewhere(): Promise<[Server, string]> {
    const page = createPlaygroundHandler();
    const other = createServer((req, res) => {
      if (!page(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    return [other, `http://127.0.0.1:${(other.address() as AddressInfo).port}`];
  }

  /** A fresh tab on `url`, recording every request the page sends (body included). */
  async function openPage(url: string): Promise<{ page: Page; sent: Request[]; pageErrors: string[] }> {
    const page = await context.newPage();
    const sent: Request[] = [];
    const pageErrors: string[] = [];
    page.on("request", (request) => sent.push(request));
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForSelector("body[data-session=none]");
    return { page, sent, pageErrors };
  }

  async function newSession(
    page: Page,
    fields: {
      protocol: Protocol;
      version: "1" | "3";
      credential: string;
      baseUrl: string;
      model?: string;
      initialPrompt: string;
    },
  ): Promise<string> {
    await page.selectOption("#protocol", fields.protocol);
    await page.selectOption("#version", fields.version);
    await page.fill("#credential", fields.credential);
    await page.fill("#model", fields.model ?? "");
    await page.fill("#base-url", fields.baseUrl);
    await page.fill("#initial-prompt", fields.initialPrompt);
    await page.click("#new-session");
    await page.waitForSelector("body[data-busy=false]");
    const error = await errorShown(page);
    expect(error.hidden, `NewSession failed: ${error.text}`).toBe(true);
    expect(await page.getAttribute("body", "data-session")).toBe("open");
    const id = (await page.textContent("#session-id")) ?? "";
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    return id;
  }

  /** Sends a message with the Send button; resolves once the page is idle again. */
  async function send(page: Page, prompt: string): Promise<void> {
    await page.fill("#prompt", prompt);
    await page.click("#send");
    await page.waitForSelector("body[data-busy=false]");
  }

  async function messages(page: Page): Promise<{ role: string; text: string }[]> {
    return page.$$eval("#messages li", (items) =>
      items.map((item) => ({
        role: item.getAttribute("data-role") ?? "",
        text: item.querySelector(".text")?.textContent ?? "",
      })),
    );
  }

  async function errorShown(
    page: Page,
  ): Promise<{ hidden: boolean; code: string | undefined; text: string; cooldown: string }> {
    return page.$eval("#error", (el) => ({
      hidden: el.hasAttribute("hidden"),
      code: el.getAttribute("data-code") ?? undefined,
      text: el.querySelector("#error-text")?.textContent ?? "",
      cooldown: el.querySelector("#cooldown")?.textContent ?? "",
    }));
  }

  async function deleteSession(page: Page): Promise<void> {
    await page.click("#delete-session");
    await page.waitForSelector("body[data-busy=false][data-session=none]");
    expect((await errorShown(page)).hidden).toBe(true);
    expect((await messages(page)).at(-1)).toEqual({ role: "note", text: "Session deleted." });
  }

  /** The page kept nothing: no web storage, no cookies. */
  async function expectNothingStored(page: Page): Promise<void> {
    const stored = await page.evaluate(() => {
      // Runs in the page (this package type-checks without the DOM library).
      const browser = globalThis as unknown as BrowserGlobals;
      return {
        local: browser.localStorage.length,
        session: browser.sessionStorage.length,
        cookie: browser.document.cookie,
      };
    });
    expect(stored).toEqual({ local: 0, session: 0, cookie: "" });
    expect(await context.cookies()).toEqual([]);
  }

  /** The credential went out in the NewSession call(s) only: no other request carries it, in its body or URL. */
  function expectCredentialOnlyInNewSession(sent: Request[], credential: string): void {
    const carrying = sent.filter(
      (r) => r.url().includes(credential) || (r.postDataBuffer()?.includes(credential) ?? false),
    );
    expect(carrying.length).toBeGreaterThan(0);
    expect(carrying.map((r) => new URL(r.url()).pathname)).toEqual(
      carrying.map(() => "/muvtuber.chatbot.v2.ChatbotService/NewSession"),
    );
  }

  describe.each(PROTOCOLS)("over $label, same origin", ({ id: protocol }) => {
    it("creates an access-token session (initial response shown), chats twice, shows a cooldown, deletes", async () => {
      const { page, sent, pageErrors } = await openPage(`${serverUrl}/`);
      expect(await page.inputValue("#server-url")).toBe(serverUrl);
      // A password field that password managers neither fill nor offer to save (no form to submit).
      expect(
        await page.$eval("#credential", (el) => {
          const input = el as unknown as { type: string; autocomplete: string; form: unknown };
          return { type: input.type, autocomplete: input.autocomplete, inForm: input.form !== null };
        }),
      ).toEqual({ type: "password", autocomplete: "new-password", inForm: false });
      const token = `test-access-token-${protocol}`;
      const initialPrompt = `You are Mio, a cheerful VTuber (${protocol}).`;
      const before = chatgptWeb.requests.length;

      const sessionId = await newSession(page, {
        protocol,
        version: "1",
        credential: token,
        baseUrl: chatgptWeb.url,
        initialPrompt,
      });
      expect(await messages(page)).toEqual([
        { role: "initial-prompt", text: initialPrompt },
        { role: "assistant", text: `echo: ${initialPrompt}` },
      ]);

      await send(page, "Hello!");
      advanceClock(ACCESS_TOKEN_COOLDOWN_MS);
      await send(page, "How are you today?");
      expect((await messages(page)).slice(2)).toEqual([
        { role: "user", text: "Hello!" },
        { role: "assistant", text: "echo: Hello!" },
        { role: "user", text: "How are you today?" },
        { role: "assistant", text: "echo: How are you today?" },
      ]);
      expect((await errorShown(page)).hidden).toBe(true);

      // Within the cooldown: RESOURCE_EXHAUSTED, its message and the seconds left on the page.
      await send(page, "Too soon?");
      const cooldown = await errorShown(page);
      expect(cooldown).toMatchObject({ hidden: false, code: "resource_exhausted" });
      expect(cooldown.text).toMatch(/^\[resource_exhausted\] cooling down: try again in \d+ s$/);
      const secondsLeft = Number(/(\d+) s$/.exec(cooldown.text)?.[1]);
      expect(secondsLeft).toBeGreaterThan(0);
      expect(secondsLeft).toBeLessThanOrEqual(ACCESS_TOKEN_COOLDOWN_MS / 1000);
      expect(cooldown.cooldown).toMatch(/^\(retry in \d+ s\)$/);
      expect(await page.inputValue("#prompt")).toBe("Too soon?"); // kept for the retry
      expect(await messages(page)).toHaveLength(6);

      // The upstream saw exactly the three prompts, in one conversation, with the token.
      const calls = chatgptWeb.requests.slice(before);
      expect(
        calls.map((r) => (r.body as { messages: { content: { parts: string[] } }[] }).messages.at(-1)?.content.parts),
      ).toEqual([[initialPrompt], ["Hello!"], ["How are you today?"]]);
      expect(calls.map((r) => r.headers.authorization)).toEqual(calls.map(() => `Bearer ${token}`));
      const conversationIds = calls.slice(1).map((r) => (r.body as { conversation_id?: string }).conversation_id);
      expect(new Set(conversationIds).size).toBe(1);
      expect(conversationIds[0]).toEqual(expect.any(String));

      await page.screenshot({ path: join(ARTIFACTS, `playground-${protocol}.png`), fullPage: true });
      await deleteSession(page);
      expect(await pool.get(sessionId)).toBeUndefined();
      expectCredentialOnlyInNewSession(sent, token);
      await expectNothingStored(page);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it("chats in an API-key session; the upstream gets the system prompt and the whole history", async () => {
      const { page, sent, pageErrors } = await openPage(`${serverUrl}/`);
      const apiKey = `sk-test-playground-${protocol}`;
      const initialPrompt = "You are Mio. Answer in one sentence.";
      const before = openai.requests.length;

      const sessionId = await newSession(page, {
        protocol,
        version: "3",
        credential: apiKey,
        baseUrl: openai.url,
        model: "gpt-4o-mini",
        initialPrompt,
      });
      // This backend keeps the initial prompt as its system prompt: no initial response, and the page says so.
      expect(await messages(page)).toEqual([
        { role: "initial-prompt", text: initialPrompt },
        { role: "note", text: "No initial response: this backend keeps the initial prompt as its system prompt." },
      ]);

      await send(page, "Hi there");
      advanceClock(API_KEY_COOLDOWN_MS);
      await send(page, "What did I just say?");
      expect((await messages(page)).slice(2)).toEqual([
        { role: "user", text: "Hi there" },
        { role: "assistant", text: "echo: Hi there" },
        { role: "user", text: "What did I just say?" },
        { role: "assistant", text: "echo: What did I just say?" },
      ]);

      const calls = openai.requests.slice(before);
      expect(calls.map((r) => (r.body as { messages: unknown }).messages)).toEqual([
        [
          { role: "system", content: initialPrompt },
          { role: "user", content: "Hi there" },
        ],
        [
          { role: "system", content: initialPrompt },
          { role: "user", content: "Hi there" },
          { role: "assistant", content: "echo: Hi there" },
          { role: "user", content: "What did I just say?" },
        ],
      ]);
      expect(calls.map((r) => (r.body as { model: string }).model)).toEqual(["gpt-4o-mini", "gpt-4o-mini"]);
      expect(calls.map((r) => r.headers.authorization)).toEqual([`Bearer ${apiKey}`, `Bearer ${apiKey}`]);

      await deleteSession(page);
      expect(await pool.get(sessionId)).toBeUndefined();
      expectCredentialOnlyInNewSession(sent, apiKey);
      await expectNothingStored(page);
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });

  describe.each(PROTOCOLS)("over $label, the reply growing", ({ id: protocol }) => {
    it("shows the reply sentence by sentence while the model writes it, then exactly the whole reply", async () => {
      const { page, pageErrors } = await openPage(`${serverUrl}/`);
      await newSession(page, {
        protocol,
        version: "3",
        credential: `sk-test-growing-${protocol}`,
        baseUrl: openai.url,
        initialPrompt: "",
      });
      const prompt = "First sentence here. Second sentence follows. Third one ends it!";
      openai.enqueueFault({ kind: "trickle", intervalMs: 250 }); // one word every 250 ms
      await page.fill("#prompt", prompt);
      await page.click("#send");
      // Mid-reply: the page shows the first sentence, and is still waiting for the rest (read in one go in the page,
      // so a sentence arriving meanwhile cannot slip in between two reads).
      const early = await page.waitForFunction(() => {
        // Runs in the page (this package type-checks without the DOM library).
        type Node = {
          getAttribute(name: string): string | null;
          querySelector(selector: string): Node | null;
          textContent: string | null;
        };
        const doc = (globalThis as unknown as { document: Node & { body: Node } }).document;
        const item = doc.querySelector("li[data-role=assistant][data-streaming=true][data-segments='1']");
        return item === null
          ? undefined
          : { text: item.querySelector(".text")?.textContent, busy: doc.body.getAttribute("data-busy") };
      });
      expect(await early.jsonValue()).toEqual({ text: "echo: First sentence here.", busy: "true" });
      await page.waitForSelector("li[data-role=assistant][data-segments='2']");
      await page.waitForSelector("body[data-busy=false]");
      expect((await messages(page)).slice(-2)).toEqual([
        { role: "user", text: prompt },
        { role: "assistant", text: `echo: ${prompt}` },
      ]);
      expect(await page.$$("li[data-streaming]")).toHaveLength(0);
      expect(await page.getAttribute("li[data-role=assistant]", "data-segments")).toBe("3");
      expect((await errorShown(page)).hidden).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `playground-streamed-${protocol}.png`), fullPage: true });
      await deleteSession(page);
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });

  describe.each(PROTOCOLS)("over $label, from another origin", ({ id: protocol }) => {
    it("passes the CORS preflight, chats, and reads the server's errors", async () => {
      const { page, sent, pageErrors } = await openPage(`${otherOriginUrl}/`);
      expect(await page.inputValue("#server-url")).toBe(otherOriginUrl);
      await page.fill("#server-url", serverUrl);
      const apiKey = `sk-test-cross-origin-${protocol}`;
      const answers: { path: string; allowOrigin: string | undefined }[] = [];
      page.on("response", (response) => {
        if (response.request().method() === "POST") {
          answers.push({
            path: new URL(response.url()).pathname,
            allowOrigin: response.headers()["access-control-allow-origin"],
          });
        }
      });

      const sessionId = await newSession(page, {
        protocol,
        version: "3",
        credential: apiKey,
        baseUrl: openai.url,
        initialPrompt: "",
      });
      await send(page, "Hello from another origin");
      expect((await messages(page)).at(-1)).toEqual({ role: "assistant", text: "echo: Hello from another origin" });

      // An error across origins: code and message readable (gRPC-web reads them from exposed headers).
      await send(page, "Again, too soon");
      const cooldown = await errorShown(page);
      expect(cooldown).toMatchObject({ hidden: false, code: "resource_exhausted" });
      expect(cooldown.text).toMatch(/^\[resource_exhausted\] cooling down: try again in \d+ s$/);
      expect(cooldown.cooldown).toMatch(/^\(retry in \d+ s\)$/);

      // Another error: the session is gone on the server (NOT_FOUND); the page says so and forgets it.
      await pool.delete(sessionId);
      await page.click("#delete-session");
      await page.waitForSelector("body[data-busy=false][data-session=none]");
      expect(await errorShown(page)).toMatchObject({
        hidden: false,
        code: "not_found",
        text: `[not_found] session not found: ${sessionId}`,
        cooldown: "",
      });

      // Every call went to the server's origin and was allowed for this page's origin.
      expect(answers.map((a) => a.path.split("/").at(-1))).toEqual([
        "NewSession",
        "ChatStream",
        "ChatStream",
        "DeleteSession",
      ]);
      expect(new Set(answers.map((a) => a.allowOrigin))).toEqual(new Set([otherOriginUrl]));
      expect(sent.every((r) => r.method() !== "POST" || r.url().startsWith(`${serverUrl}/`))).toBe(true);
      expectCredentialOnlyInNewSession(sent, apiKey);
      await expectNothingStored(page);
      expect(pageErrors).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `playground-cross-origin-${protocol}.png`), fullPage: true });
      await page.close();
    });
  });

  it("from an origin the server does not allow, the call fails and the page says what to check", async () => {
    for (const { id: protocol } of PROTOCOLS) {
      const { page, pageErrors } = await openPage(`${strangerOriginUrl}/`);
      await page.fill("#server-url", serverUrl);
      await page.selectOption("#protocol", protocol);
      await page.fill("#credential", `sk-test-stranger-${protocol}`);
      await page.fill("#base-url", openai.url);
      const before = openai.requests.length;
      await page.click("#new-session");
      await page.waitForSelector("body[data-busy=false]");
      const error = await errorShown(page);
      expect(error).toMatchObject({ hidden: false, code: "unknown", text: "[unknown] Failed to fetch" });
      expect(await page.textContent("#error-hint")).toContain("CHATBOT_CORS_ORIGINS");
      expect(await page.getAttribute("body", "data-session")).toBe("none");
      expect(openai.requests.length).toBe(before);
      expect(pageErrors).toEqual([]);
      await page.close();
    }
  });

  it("answers the CORS preflight of both protocols for the allowed origin only", async () => {
    const path = `${serverUrl}/muvtuber.chatbot.v2.ChatbotService/Chat`;
    const preflight = (origin: string, headers: string) =>
      fetch(path, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
      });
    const connect = await preflight(otherOriginUrl, "connect-protocol-version,content-type");
    expect(connect.status).toBe(204);
    expect(connect.headers.get("access-control-allow-origin")).toBe(otherOriginUrl);
    expect(connect.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("connect-protocol-version");

    const grpcWeb = await preflight(otherOriginUrl, "content-type,x-grpc-web,x-user-agent");
    expect(grpcWeb.status).toBe(204);
    expect(grpcWeb.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-grpc-web");

    const stranger = await preflight("http://127.0.0.1:9", "content-type");
    expect(stranger.status).toBe(403);
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
  });
});
