import type { IncomingMessage } from "node:http";

/** One request as a fake upstream received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query string as sent, e.g. "/v1/chat/completions". */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON, or the raw text if it is not JSON ("" when there is none). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read recorded bodies loosely; the fake cannot know every shape.
  body: any;
}

/** Reads the whole body of `req` and records it. Rejects if the client goes away first. */
export async function recordRequest(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown = text;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { method: req.method ?? "GET", path: req.url ?? "/", headers: { ...req.headers }, body };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(headers: RecordedRequest["headers"]): string | undefined {
  const value = headers.authorization;
  if (typeof value !== "string") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}
