import { ConfigError } from "@chatgptchatbot/core";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from "@chatgptchatbot/http-server";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Reads a `--http` or `--grpc` value: `host:port`, `:port` (default host), `host`
 * (default port) or `[ipv6]:port`. Defaults: localhost:9006 (the HTTP API's).
 *
 * @throws ConfigError naming the flag.
 */
export function parseHostPort(
  value: string,
  { flag = "--http", defaultHost = DEFAULT_HTTP_HOST, defaultPort = DEFAULT_HTTP_PORT } = {},
): HostPort {
  const v = value.trim();
  const bad = (): never => {
    throw new ConfigError(
      flag,
      `expected host:port (like ${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}), got ${JSON.stringify(value)}`,
    );
  };
  if (v === "") bad();
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
  if (v6 !== null) {
    host = v6[1]!;
    port = v6[2];
  } else {
    const colon = v.lastIndexOf(":");
    if (colon === -1) {
      host = v;
    } else {
      host = v.slice(0, colon);
      port = v.slice(colon + 1);
      if (host.includes(":")) bad(); // a bare IPv6 address needs brackets
    }
  }
  if (host === "") host = defaultHost;
  if (/\s/.test(host)) bad();
  if (port === undefined) return { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new ConfigError(flag, `port must be a number from 0 to 65535, got ${JSON.stringify(port)}`);
  }
  return { host, port: Number(port) };
}
