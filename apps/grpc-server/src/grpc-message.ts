import type { NodeHandlerFn } from "./node-handler.js";

/**
 * Percent-encodes a status message as the gRPC spec says for `grpc-message`:
 * only bytes outside printable ASCII (0x20–0x7E) and "%" itself.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(byte);
  }
  return out;
}

function respec(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return encodeGrpcMessage(decodeURIComponent(value));
  } catch {
    return value;
  }
}

function fixHeaders(headers: unknown): void {
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) return;
  const record = headers as Record<string, unknown>;
  for (const key of Object.keys(record)) if (key.toLowerCase() === "grpc-message") record[key] = respec(record[key]);
}

/**
 * Connect encodes `grpc-message` with `encodeURIComponent` ("&" → "%26",
 * ":" → "%3A"). Spec-conforming decoders (Go, C-core/Python) read that
 * fine, but grpc-js decodes with `decodeURI`, which leaves "%26" and "%3A"
 * as they are, so Node clients would see `version %26 access_token|api_key
 * is required`. For gRPC (not gRPC-web, whose clients use Connect's own
 * decoding) this re-encodes the header and trailer with the spec's minimal
 * escaping, which every decoder reads back to the same text.
 */
export function withSpecGrpcMessage(next: NodeHandlerFn): NodeHandlerFn {
  return (req, res) => {
    const type = req.headers["content-type"];
    if (typeof type === "string" && type.startsWith("application/grpc") && !type.startsWith("application/grpc-web")) {
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => unknown;
      const addTrailers = res.addTrailers.bind(res) as (trailers: unknown) => void;
      (res as { writeHead: unknown }).writeHead = (...args: unknown[]) => {
        for (const arg of args) fixHeaders(arg);
        return writeHead(...args);
      };
      (res as { addTrailers: unknown }).addTrailers = (trailers: unknown) => {
        fixHeaders(trailers);
        addTrailers(trailers);
      };
    }
    next(req, res);
  };
}
