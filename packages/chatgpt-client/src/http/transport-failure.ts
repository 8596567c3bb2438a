/**
 * Failures of the HTTP transport itself (no upstream answer to read): what
 * went wrong, in words safe to show a client, and whether another attempt
 * may help. Shared by both backends. Timeouts are not among them: requests
 * carry no undici timers, the one timeout is the backends' `AttemptDeadline`
 * (attempt-deadline.ts).
 */

export type TransportFailureKind =
  /** No connection could be made (nothing was sent). */
  | "connect"
  /** The proxy refused to open a tunnel. */
  | "proxy"
  /** The connection dropped before the reply was complete. */
  | "closed"
  /** The TLS handshake failed (certificate, protocol). */
  | "tls"
  /** Any other network-level failure. */
  | "network";

export interface TransportFailure {
  readonly kind: TransportFailureKind;
  /** A safe, one-line reason for error messages. */
  readonly reason: string;
  /** Whether retrying may help: refused/reset connections, yes; TLS, proxy and other failures, no. */
  readonly retryable: boolean;
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CONNECT",
]);
const CLOSED_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
/** The dispatcher itself was closed: the server is shutting down. */
const SHUT_DOWN_CODES = new Set(["UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
/** Codes that mean a bug in the request, not a network failure. */
const BUG_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED", "UND_ERR_INVALID_RETURN_VALUE"]);

/**
 * Recognises a transport failure anywhere in `error`'s cause chain (a
 * wrapper may carry undici's error as its cause), or returns undefined.
 */
export function transportFailure(error: unknown): TransportFailure | undefined {
  let network: string | undefined;
  for (let current = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (code === "UND_ERR_ABORTED" && current.message.startsWith("Proxy response")) {
      // undici reports a refused CONNECT as an aborted request: it is neither an abort nor retryable.
      return { kind: "proxy", reason: `the proxy refused the connection (${current.message})`, retryable: false };
    }
    if (SHUT_DOWN_CODES.has(code))
      return {
        kind: "network",
        reason: "the upstream client is closed (the server is shutting down)",
        retryable: false,
      };
    if (CONNECT_CODES.has(code))
      return { kind: "connect", reason: `could not connect to the upstream (${code})`, retryable: true };
    if (CLOSED_CODES.has(code)) {
      return {
        kind: "closed",
        reason: `the upstream connection closed before the reply was complete (${code})`,
        retryable: true,
      };
    }
    if (TLS_CODE.test(code))
      return { kind: "tls", reason: `the TLS handshake with the upstream failed (${code})`, retryable: false };
    if (network === undefined && !BUG_CODES.has(code) && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) network = code;
  }
  if (network !== undefined)
    return { kind: "network", reason: `the request to the upstream failed (${network})`, retryable: false };
  return undefined;
}

/** "60 s", "1.5 s", "200 ms". */
export function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
