/**
 * A ChatbotService client over the protocol the page picked, both through
 * `@connectrpc/connect-web` (fetch), with the shared generated descriptor.
 */

import { ChatbotService } from "@chatgptchatbot/proto";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";

/** The browser protocols the server speaks on its one port. */
export type PlaygroundProtocol = "connect" | "grpc-web";

export const PROTOCOLS: readonly PlaygroundProtocol[] = ["connect", "grpc-web"];

export type ChatbotClient = Client<typeof ChatbotService>;

export interface ChatbotClientOptions {
  /** The server's origin (or origin plus path prefix), e.g. "http://localhost:50052". */
  readonly serverUrl: string;
  readonly protocol: PlaygroundProtocol;
  /** Per-call deadline (default 120 s: a cold upstream may be slow). */
  readonly timeoutMs?: number;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof globalThis.fetch;
  /** The server's own access token (CHATBOT_AUTH_TOKENS), sent as `authorization: Bearer …` on every call; empty: none. */
  readonly accessToken?: string;
}

/**
 * Builds a client. Connect calls use JSON (readable in the browser's network
 * panel); gRPC-web calls use the binary format, as every gRPC-web client does.
 *
 * @throws TypeError when `serverUrl` is not an http(s) URL.
 */
export function createChatbotClient({
  serverUrl,
  protocol,
  timeoutMs = 120_000,
  fetch,
  accessToken = "",
}: ChatbotClientOptions): ChatbotClient {
  const baseUrl = normalizeServerUrl(serverUrl);
  const token = accessToken.trim();
  const interceptors = token === "" ? [] : [bearer(token)];
  const common = { baseUrl, defaultTimeoutMs: timeoutMs, interceptors, ...(fetch === undefined ? {} : { fetch }) };
  const transport =
    protocol === "grpc-web" ? createGrpcWebTransport({ ...common }) : createConnectTransport({ ...common });
  return createClient(ChatbotService, transport);
}

/** Sends the server's access token with every call (a header, so it never lands in a URL or a log of bodies). */
function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** Reads the protocol select's value; anything unknown is Connect. */
export function parseProtocol(value: string): PlaygroundProtocol {
  return value === "grpc-web" ? "grpc-web" : "connect";
}

/**
 * The server address as a base URL without a trailing slash.
 *
 * @throws TypeError for anything but an absolute http(s) URL without user info.
 */
export function normalizeServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new TypeError(`server address is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`server address must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") throw new TypeError("server address must not carry user info");
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}
