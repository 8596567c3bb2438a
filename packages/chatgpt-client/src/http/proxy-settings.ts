import { ConfigError } from "@chatgptchatbot/core";

/** An environment (the app passes `process.env`); only the proxy variables are read. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** Which proxy upstream traffic takes, read once from an environment. */
export interface ProxySettings {
  /** Proxy for `http:` upstreams (HTTP_PROXY). */
  readonly httpProxy: string | undefined;
  /** Proxy for `https:` upstreams (HTTPS_PROXY); falls back to the HTTP proxy, as undici does. */
  readonly httpsProxy: string | undefined;
  /** Hosts that bypass the proxy (NO_PROXY): `host`, `host:port`, `.domain`, `*.domain` or `*`. */
  readonly noProxy: string | undefined;
}

/**
 * Reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY from `env`, the lower-case name
 * first (as curl does), and validates the proxy URLs.
 *
 * @throws ConfigError naming the variable when a proxy is not an http(s) URL.
 */
export function readProxySettings(env: ProxyEnv): ProxySettings {
  return {
    httpProxy: proxyUrl(env, "http_proxy", "HTTP_PROXY"),
    httpsProxy: proxyUrl(env, "https_proxy", "HTTPS_PROXY"),
    noProxy: pick(env, "no_proxy", "NO_PROXY")?.value,
  };
}

/** Whether any proxy is configured. */
export function usesProxy(settings: ProxySettings): boolean {
  return settings.httpProxy !== undefined || settings.httpsProxy !== undefined;
}

/** A proxy URL fit for a log line: user info (proxy credentials) removed. */
export function describeProxy(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(invalid proxy URL)";
  }
}

function pick(env: ProxyEnv, lower: string, upper: string): { name: string; value: string } | undefined {
  for (const name of [lower, upper]) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

function proxyUrl(env: ProxyEnv, lower: string, upper: string): string | undefined {
  const found = pick(env, lower, upper);
  if (found === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(found.value);
  } catch {
    // Never echo the value: it may carry proxy credentials.
    throw new ConfigError(found.name, "expected a proxy URL like http://host:port");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(
      found.name,
      `expected an http:// or https:// proxy URL, got ${parsed.protocol}//${parsed.host}`,
    );
  }
  return found.value;
}
