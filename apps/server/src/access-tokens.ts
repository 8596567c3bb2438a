/**
 * Access tokens for the server itself (CHATBOT_AUTH_TOKENS or
 * CHATBOT_AUTH_TOKENS_FILE): what a token may be, how a file of them is read,
 * and the check of an `Authorization: Bearer <token>` header that the
 * transports are given as a plain predicate (so neither library knows where
 * the tokens come from).
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Shortest token accepted: shorter ones are guessable, and a typo'd empty-ish value should stop the start. */
export const MIN_ACCESS_TOKEN_CHARS = 16;
/** Longest token accepted (and longest Authorization header looked at, plus the scheme). */
export const MAX_ACCESS_TOKEN_CHARS = 4_096;
/** Largest tokens file read, in bytes: a wrong path (a log, a device) must not be slurped whole. */
export const MAX_ACCESS_TOKENS_FILE_BYTES = 1024 * 1024;

/**
 * Decides whether a request's `Authorization` header value (undefined when
 * absent) carries one of the server's tokens.
 */
export type Authorize = (authorization: string | undefined) => boolean;

/**
 * Why a token cannot be used, or undefined when it can: visible ASCII
 * (0x21–0x7E, so it fits a header and has no separator in it) and
 * {@link MIN_ACCESS_TOKEN_CHARS}..{@link MAX_ACCESS_TOKEN_CHARS} characters.
 * Never quotes the value.
 */
export function accessTokenProblem(token: string): string | undefined {
  if (!/^[\x21-\x7e]*$/.test(token)) return "has characters other than visible ASCII";
  if (token.length < MIN_ACCESS_TOKEN_CHARS) return `is shorter than ${MIN_ACCESS_TOKEN_CHARS} characters`;
  if (token.length > MAX_ACCESS_TOKEN_CHARS) return `is longer than ${MAX_ACCESS_TOKEN_CHARS} characters`;
  return undefined;
}

/**
 * The tokens of a tokens file: one a line; surrounding white space, empty
 * lines and lines starting with `#` are skipped.
 */
export function accessTokenLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * The check of `Authorization: Bearer <token>` against `tokens`. Both sides
 * are hashed first, so every comparison is of 32 bytes with
 * `timingSafeEqual` whatever the lengths, and every token is compared (no
 * early exit): the time taken says nothing about how close a guess was or
 * which token matched. The scheme is case-insensitive (RFC 9110, 11.1).
 */
export function createTokenCheck({ tokens }: { tokens: readonly string[] }): Authorize {
  if (tokens.length === 0) throw new RangeError("createTokenCheck needs at least one token");
  const digests = tokens.map(sha256);
  return (authorization) => {
    if (authorization === undefined || authorization.length > MAX_ACCESS_TOKEN_CHARS + 16) return false;
    const match = /^bearer +([\x21-\x7e]+) *$/i.exec(authorization);
    if (match === null) return false;
    const presented = sha256(match[1]!);
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(presented, digest) || ok;
    return ok;
  };
}
