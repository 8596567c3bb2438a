/**
 * What every reply to hostile input must satisfy, whatever the input: a
 * documented status, never INTERNAL / 500, a bounded message that names no
 * credential and shows no stack trace.
 */
import { GrpcCode } from "./hostile-clients.js";

/** The statuses the README's tables document for ChatbotService calls (OK included). */
export const DOCUMENTED_RPC_CODES: ReadonlySet<number> = new Set([
  GrpcCode.OK,
  GrpcCode.INVALID_ARGUMENT,
  GrpcCode.NOT_FOUND,
  GrpcCode.RESOURCE_EXHAUSTED,
  GrpcCode.UNAVAILABLE,
]);

/** The statuses of the README's legacy HTTP API table, without 500 (that one is a bug). */
export const DOCUMENTED_HTTP_STATUSES: ReadonlySet<number> = new Set([200, 400, 404, 405, 413, 429, 502, 503]);

/**
 * Longest status message accepted: gRPC carries it percent-encoded in a
 * header, and clients cap headers at 8 KiB (grpc-js, Go), so a message must
 * stay far below; the issue asks for client values "cut to a short bound".
 */
export const MAX_MESSAGE_CHARS = 1024;

/** A V8 stack frame ("    at fn (file.js:1:2)") or a source position of ours. */
const STACK = /\n\s*at \S|\bat [^\s()]+ \([^)]*:\d+:\d+\)|node:internal|\/dist\/[\w./-]+\.js|\.[cm]?[jt]s:\d+:\d+/;

/** Every reason `text` (a status message or reply body) is not acceptable; empty when it is. */
export function textProblems(
  text: string,
  { secrets = [], maxChars }: { secrets?: readonly string[]; maxChars?: number },
): string[] {
  const problems: string[] = [];
  if (STACK.test(text)) problems.push(`shows a stack trace: ${JSON.stringify(text.slice(0, 300))}`);
  for (const secret of secrets) {
    if (secret.length >= 8 && text.includes(secret)) problems.push(`echoes a credential (${secret.length} chars)`);
  }
  if (maxChars !== undefined && text.length > maxChars) problems.push(`is ${text.length} chars, over ${maxChars}`);
  return problems;
}

/** Problems with an RPC outcome: an undocumented code (INTERNAL, UNKNOWN, ...) or a bad message. */
export function rpcProblems(
  outcome: { code: number; message: string },
  { secrets = [], codes = DOCUMENTED_RPC_CODES }: { secrets?: readonly string[]; codes?: ReadonlySet<number> } = {},
): string[] {
  const problems = textProblems(outcome.message, { secrets, maxChars: MAX_MESSAGE_CHARS }).map((p) => `message ${p}`);
  if (!codes.has(outcome.code))
    problems.unshift(`undocumented status ${outcome.code}: ${JSON.stringify(outcome.message.slice(0, 300))}`);
  return problems;
}

/** Problems with an HTTP answer: an undocumented status (500 included) or a bad body. */
export function httpProblems(
  outcome: { status: number | undefined; body: string },
  { secrets = [], maxBodyChars }: { secrets?: readonly string[]; maxBodyChars?: number } = {},
): string[] {
  const problems = textProblems(outcome.body, {
    secrets,
    ...(maxBodyChars === undefined ? {} : { maxChars: maxBodyChars }),
  }).map((p) => `body ${p}`);
  if (outcome.status === undefined || !DOCUMENTED_HTTP_STATUSES.has(outcome.status)) {
    problems.unshift(`undocumented status ${outcome.status}: ${JSON.stringify(outcome.body.slice(0, 300))}`);
  }
  return problems;
}

/** Log lines at error level or above (pino: 50+), or with a stack: the program's own bugs only. */
export function errorLogLines(logs: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter(
    (line) => (typeof line.level === "number" && line.level >= 50) || JSON.stringify(line).includes('"stack"'),
  );
}
