/**
 * How the page shows an error: `[code_name] message`, the code named as the
 * Connect protocol names it (`resource_exhausted`, `not_found`...), and for a
 * cooldown the seconds left.
 */

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

export interface ErrorView {
  /** The numeric status code. */
  readonly code: Code;
  /** The code's name, e.g. "resource_exhausted". */
  readonly codeName: string;
  /** The server's message, without the code prefix. */
  readonly message: string;
  /** What the error area shows: `[code_name] message`. */
  readonly text: string;
  /** Seconds to wait before retrying, when the server said so. */
  readonly retryAfterSeconds: number | undefined;
  /** What may be wrong when the call never reached the server (the browser only says "Failed to fetch"). */
  readonly hint: string | undefined;
}

/** Browsers hide why a fetch failed (down, refused, or CORS); this is what to check. */
export const NETWORK_HINT =
  "the server did not answer: check the server address, and that the server allows this page's origin (CHATBOT_CORS_ORIGINS)";

/** UNAUTHENTICATED: the server has access tokens (CHATBOT_AUTH_TOKENS) and this call carried none that it accepts. */
export const TOKEN_HINT = "this server needs its access token: type it in the Server access token field";

/** PERMISSION_DENIED: the host guard refused a page under a name the server does not know (DNS rebinding). */
export const HOST_HINT =
  "the server does not answer pages under this host name: open it as localhost or by an IP address, or add the name to CHATBOT_ALLOWED_HOSTS";

const RETRY_INFO = "google.rpc.RetryInfo";
/** The old service's and this server's cooldown message: "... try again in 15 s". */
const RETRY_IN_MESSAGE = /try again in (\d+(?:\.\d+)?)\s*s\b/i;

/** Turns anything a call threw into what the page shows. */
export function describeError(error: unknown): ErrorView {
  const connectError = ConnectError.from(error);
  const code = connectError.code;
  const codeName = codeToString(code);
  const message = connectError.rawMessage;
  return {
    code,
    codeName,
    message,
    text: message === "" ? `[${codeName}]` : `[${codeName}] ${message}`,
    retryAfterSeconds:
      code === Code.ResourceExhausted || code === Code.Unavailable ? retryAfterSeconds(connectError) : undefined,
    hint: isNetworkFailure(error, connectError) ? NETWORK_HINT : HINTS.get(code),
  };
}

const HINTS: ReadonlyMap<Code, string> = new Map([
  [Code.Unauthenticated, TOKEN_HINT],
  [Code.PermissionDenied, HOST_HINT],
]);

/** fetch rejects with a TypeError when no response came (network error, refused connection, CORS). */
function isNetworkFailure(original: unknown, error: ConnectError): boolean {
  return error.code === Code.Unknown && (original instanceof TypeError || error.cause instanceof TypeError);
}

/** The delay of a google.rpc.RetryInfo detail, else the one the message names, rounded up to whole seconds. */
function retryAfterSeconds(error: ConnectError): number | undefined {
  for (const detail of error.details) {
    if (!("type" in detail) || detail.type !== RETRY_INFO) continue;
    const seconds = retryInfoSeconds(detail.value);
    if (seconds !== undefined) return Math.max(1, Math.ceil(seconds));
  }
  const match = RETRY_IN_MESSAGE.exec(error.rawMessage);
  return match?.[1] === undefined ? undefined : Math.max(1, Math.ceil(Number(match[1])));
}

/**
 * Reads `RetryInfo.retry_delay` (field 1, a google.protobuf.Duration of
 * seconds = 1 and nanos = 2) from the detail's bytes, without bundling the
 * google.rpc descriptors for one field.
 */
export function retryInfoSeconds(bytes: Uint8Array): number | undefined {
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      if (fieldNo !== 1 || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, fieldNo);
        continue;
      }
      const duration = new BinaryReader(reader.bytes());
      let seconds = 0;
      let nanos = 0;
      while (duration.pos < duration.len) {
        const [field, type] = duration.tag();
        if (field === 1 && type === WireType.Varint) seconds = Number(duration.int64());
        else if (field === 2 && type === WireType.Varint) nanos = duration.int32();
        else duration.skip(type, field);
      }
      const total = seconds + nanos / 1e9;
      return Number.isFinite(total) && total >= 0 ? total : undefined;
    }
  } catch {
    // A malformed detail is ignored; the message may still say the delay.
  }
  return undefined;
}
