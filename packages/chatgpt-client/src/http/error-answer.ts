import { ChatbotError } from "@chatgptchatbot/core";
import type { Dispatcher } from "undici";
import { safeReason } from "../safe-error.js";
import { parseRetryAfter } from "./retry.js";

/** Error bodies are read up to this size; the rest is dropped with the connection. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The failure an error answer (a non-2xx status, or JSON where an event
 * stream belongs) stands for: Upstream with its status, its Retry-After and
 * the reason its body gives (`reasonOf`, the backend's reading of its
 * protocol's error bodies; read up to {@link MAX_ERROR_BODY_BYTES}, one line,
 * the credential masked). The attempt runner retries 429 and 5xx. Every
 * other failure (transport, deadline, abort) is the runner's common reading
 * (upstream-failure.ts): undici's `request` has no errors of its own to explain.
 */
export async function errorAnswer(
  response: Dispatcher.ResponseData,
  { credential, reasonOf }: { credential: string; reasonOf: (body: string) => string },
): Promise<ChatbotError> {
  const status = response.statusCode;
  const text = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
  const reason = safeReason(reasonOf(text), credential);
  return ChatbotError.upstream(`the upstream answered ${status}: ${reason}`, {
    status,
    retryAfterMs: parseRetryAfter(response.headers),
  });
}

/** Reads a body as text, at most `limit` bytes (the rest is dropped with the connection). */
async function readBounded(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}
