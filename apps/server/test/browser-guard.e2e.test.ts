/**
 * The DNS-rebinding guard and the access-token field in a real browser:
 * Debian's Chromium (driven by playwright-core) against the built program.
 * `--host-resolver-rules` points the foreign name `evil.test` at 127.0.0.1,
 * as an attacker's DNS would after the rebinding.
 *
 * - Under `localhost` the playground works once its token field holds the
 *   server's token (and is refused UNAUTHENTICATED without it).
 * - The rebinding attack itself: the playground loaded under
 *   `evil.test:<port>` never runs (its script is refused); a page under that
 *   name calling the server by it, even with the right token, gets
 *   PERMISSION_DENIED on the gRPC port and 403 on the HTTP API's; the
 *   upstream sees nothing.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlaygroundHandler } from "@chatgptchatbot/playground";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { type BrowserContext, chromium, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltProgram, startBuiltProgram } from "./built-program.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "test-server-token-browser-0001";
const API_KEY = "sk-test-browser-guard";

/** The few browser globals the test reads inside the page. */
interface BrowserGlobals {
  readonly localStorage: { readonly length: number };
  readonly sessionStorage: { readonly length: number };
  readonly document: { readonly cookie: string };
}

// In CI the browser test must run (CI installs chromium): only a developer machine without it skips.
const skip = !existsSync(CHROMIUM) && !process.env.CI;
if (skip) console.warn(`browser guard e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(skip)("the host guard and access tokens in Chromium", { timeout: 60_000 }, () => {
  let openai: FakeOpenAI;
  let program: BuiltProgram;
  let context: BrowserContext;
  let userDataDir: string;
  let grpcPort: string;
  let httpPort: string;
  /** The playground's files on another loopback port: the attacker's own server. */
  let elsewhere: Server;
  let elsewhereUrl: string;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    program = await startBuiltProgram({
      env: { CHATBOT_STORE: "memory", CHATBOT_AUTH_TOKENS: TOKEN, API_URL: openai.url, CHATGPT_V3_COOLDOWN: "0" },
    });
    grpcPort = new URL(program.grpcUrl).port;
    httpPort = new URL(program.httpUrl).port;
    const pageFiles = createPlaygroundHandler();
    elsewhere = createServer((req, res) => {
      if (!pageFiles(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    userDataDir = mkdtempSync(join(tmpdir(), "guard-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--host-resolver-rules=MAP evil.test 127.0.0.1",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
    context.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    expect(await program?.stop()).toBe(0);
    const logged = JSON.stringify(program?.logs ?? []);
    expect(logged).not.toContain(TOKEN);
    await openai?.close();
    await new Promise<void>((resolve) => (elsewhere === undefined ? resolve() : elsewhere.close(() => resolve())));
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  async function errorShown(
    page: Page,
  ): Promise<{ hidden: boolean; code: string | undefined; text: string; hint: string }> {
    return page.$eval("#error", (el) => ({
      hidden: el.hasAttribute("hidden"),
      code: el.getAttribute("data-code") ?? undefined,
      text: el.querySelector("#error-text")?.textContent ?? "",
      hint: el.querySelector("#error-hint")?.textContent ?? "",
    }));
  }

  async function newSession(page: Page): Promise<void> {
    await page.selectOption("#version", "3");
    await page.fill("#credential", API_KEY);
    await page.click("#new-session");
    await page.waitForSelector("body[data-busy=false]");
  }

  it("under localhost: refused without the server token, served with it, the token kept in memory only", async () => {
    const page = await context.newPage();
    const sent: Request[] = [];
    page.on("request", (request) => sent.push(request));
    await page.goto(`http://localhost:${grpcPort}/`);
    await page.waitForSelector("body[data-session=none]");
    expect(await page.inputValue("#server-url")).toBe(`http://localhost:${grpcPort}`);
    expect(
      await page.$eval("#server-token", (el) => {
        const input = el as unknown as { type: string; autocomplete: string; form: unknown };
        return { type: input.type, autocomplete: input.autocomplete, inForm: input.form !== null };
      }),
    ).toEqual({ type: "password", autocomplete: "new-password", inForm: false });

    await newSession(page);
    expect(await errorShown(page)).toMatchObject({
      hidden: false,
      code: "unauthenticated",
      text: "[unauthenticated] this server needs an access token: send authorization: Bearer <token>",
      hint: "this server needs its access token: type it in the Server access token field",
    });
    expect(await page.getAttribute("body", "data-session")).toBe("none");

    await page.fill("#server-token", TOKEN);
    await newSession(page);
    expect((await errorShown(page)).hidden).toBe(true);
    expect(await page.getAttribute("body", "data-session")).toBe("open");
    await page.fill("#prompt", "Hello from localhost");
    await page.click("#send");
    await page.waitForSelector("body[data-busy=false]");
    expect(await page.$$eval("#messages li .text", (items) => items.map((i) => i.textContent))).toContain(
      "echo: Hello from localhost",
    );

    const rpcs = sent.filter((r) => r.method() === "POST");
    expect(rpcs.map((r) => r.headers().authorization)).toEqual([undefined, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    const stored = await page.evaluate(() => {
      const browser = globalThis as unknown as BrowserGlobals;
      return {
        local: browser.localStorage.length,
        session: browser.sessionStorage.length,
        cookie: browser.document.cookie,
      };
    });
    expect(stored).toEqual({ local: 0, session: 0, cookie: "" });
    await page.close();
  });

  it("the playground served under a rebound foreign name cannot call the server", async () => {
    // Plain-http navigations carry neither Origin nor Sec-Fetch-*, so the HTML loads (a GET spends nothing);
    // its module script is fetched with Origin, is refused, and the page never runs.
    const page = await context.newPage();
    const origin = `http://evil.test:${grpcPort}`;
    const responses: { path: string; method: string; status: number }[] = [];
    page.on("response", (response) =>
      responses.push({
        path: new URL(response.url()).pathname,
        method: response.request().method(),
        status: response.status(),
      }),
    );
    await page.goto(`${origin}/`);
    await page.waitForLoadState("load");
    expect(responses).toContainEqual({ path: "/app.js", method: "GET", status: 403 });
    expect(await page.getAttribute("body", "data-session")).toBeNull(); // the script never ran
    expect(responses.filter((r) => r.method === "POST")).toEqual([]);
    await page.close();
  });

  it("a page under a foreign name calling the server by that name is refused PERMISSION_DENIED, even holding the token", async () => {
    // The attacker's page, on a port of its own under evil.test, calls http://evil.test:<grpc port> (now this
    // server) over both browser protocols; CORS lets it read the answer, which is the guard's refusal.
    const page = await context.newPage();
    const before = openai.requests.length;
    await page.goto(`http://evil.test:${new URL(elsewhereUrl).port}/`);
    await page.waitForSelector("body[data-session=none]");
    await page.fill("#server-url", `http://evil.test:${grpcPort}`);
    await page.fill("#server-token", TOKEN);
    for (const protocol of ["connect", "grpc-web"]) {
      await page.selectOption("#protocol", protocol);
      await newSession(page);
      const error = await errorShown(page);
      expect(error, protocol).toMatchObject({ hidden: false, code: "permission_denied" });
      expect(error.hint).toContain("CHATBOT_ALLOWED_HOSTS");
      expect(await page.getAttribute("body", "data-session")).toBe("none");
    }

    // The HTTP API's port: a same-origin POST /ask from a page loaded under the foreign name.
    await page.goto(`http://evil.test:${httpPort}/healthz`);
    const ask = await page.evaluate(async (token) => {
      const res = await fetch("/ask", {
        method: "POST",
        body: JSON.stringify({ prompt: "spend the key" }),
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, text: await res.text() };
    }, TOKEN);
    expect(ask).toEqual({
      status: 403,
      text: "this server does not answer browsers under this host name (see CHATBOT_ALLOWED_HOSTS)",
    });
    expect(openai.requests.length).toBe(before);
    await page.close();
  });

  it("under localhost, a page calls the HTTP API with the token", async () => {
    const page = await context.newPage();
    await page.goto(`http://localhost:${httpPort}/healthz`);
    const replies = await page.evaluate(
      async ({ token, apiKey }) => {
        const post = async (path: string, body: unknown) => {
          const res = await fetch(path, {
            method: "POST",
            body: JSON.stringify(body),
            headers: { authorization: `Bearer ${token}` },
          });
          return `${res.status} ${await res.text()}`;
        };
        return [await post("/renew", { api_key: apiKey, version: 3 }), await post("/ask", { prompt: "hello" })];
      },
      { token: TOKEN, apiKey: API_KEY },
    );
    expect(replies).toEqual(["200 ok", "200 echo: hello"]);
    await page.close();
  });
});
