/**
 * Which `Host` names a browser request may carry (the DNS-rebinding guard,
 * CHATBOT_ALLOWED_HOSTS). A page on a name its author controls can point that
 * name at 127.0.0.1 and then call this server *same-origin*, so CORS never
 * applies; what that page cannot change is the `Host` its browser sends. The
 * names allowed by default are those no outsider can point at this machine:
 * loopback names (browsers resolve `localhost` and `*.localhost` themselves,
 * RFC 6761), IP literals (an IP origin is not rebindable), and the names the
 * server was bound to (`--grpc chatbot:50052` → `chatbot`).
 */
import { isIPv4, isIPv6 } from "node:net";

/** Decides whether a request's `Host` header value may be served to a browser. */
export type AllowHost = (host: string) => boolean;

/**
 * The name part of a Host header value, lower-cased, without port or a
 * trailing dot; IPv6 literals keep their brackets. Undefined when malformed.
 */
export function hostName(host: string): string | undefined {
  const v = host.trim().toLowerCase();
  const v6 = /^(\[[0-9a-f:.]+\])(?::\d{1,5})?$/.exec(v);
  if (v6 !== null) return v6[1];
  const m = /^([a-z0-9_.-]+?)\.?(?::\d{1,5})?$/.exec(v);
  return m?.[1] === undefined || m[1] === "" ? undefined : m[1];
}

function isIpLiteral(name: string): boolean {
  return isIPv4(name) || (name.startsWith("[") && name.endsWith("]") && isIPv6(name.slice(1, -1)));
}

/**
 * The allow-list check, or undefined when `allowed` contains `*` (the guard
 * is off). `allowed` entries are names (`chatbot.example.com`) or suffix
 * wildcards (`*.example.com`, which matches subdomains only); `boundHosts`
 * are the hosts of `--grpc` / `--http` (IPv6 with or without brackets).
 */
export function createHostAllowlist({
  allowed,
  boundHosts,
}: {
  allowed: readonly string[];
  boundHosts: readonly string[];
}): AllowHost | undefined {
  if (allowed.includes("*")) return undefined;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allowed) {
    const name = entry.trim().toLowerCase().replace(/\.$/, "");
    if (name.startsWith("*.")) suffixes.push(name.slice(1));
    else exact.add(name);
  }
  for (const bound of boundHosts) {
    const name = isIPv6(bound) ? `[${bound}]` : hostName(bound);
    if (name !== undefined) exact.add(name.toLowerCase());
  }
  return (host) => {
    const name = hostName(host);
    if (name === undefined) return false;
    if (name === "localhost" || name.endsWith(".localhost")) return true;
    if (isIpLiteral(name)) return true;
    return exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
  };
}
