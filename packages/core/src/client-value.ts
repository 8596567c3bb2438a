/**
 * Client-supplied values that appear in an error message: cut to a short
 * bound and escaped, so a message never grows with the client's input (a
 * status message travels in gRPC metadata, whose size is limited, and is
 * logged) and never carries control characters into a header or a log line.
 */

/** Characters of a client's string quoted in a message, at most. */
export const QUOTED_VALUE_CHARS = 40;

/**
 * A short, printable-ASCII rendering of a value for an error message: a
 * string JSON-quoted with everything outside 0x20–0x7E escaped as `\uXXXX`,
 * cut after {@link QUOTED_VALUE_CHARS} characters (`…` and the full length
 * added); numbers and booleans as they are; anything else by its type only
 * (never serialized: it may be nested 10,000 deep).
 */
export function quoteClientValue(value: unknown): string {
  if (typeof value === "string") {
    let cut = value.slice(0, QUOTED_VALUE_CHARS);
    const last = cut.charCodeAt(cut.length - 1);
    if (value.length > QUOTED_VALUE_CHARS && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    const quoted = `"${escapeText(cut)}${cut.length < value.length ? "…" : ""}"`;
    return cut.length < value.length ? `${quoted} (${value.length} characters)` : quoted;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function escapeText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) out += `\\${text[i]}`;
    else if (code >= 0x20 && code <= 0x7e) out += text[i];
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/**
 * An identifier a client sent (a session id, a service name), as it is when
 * it is short visible ASCII without quotes (`session not found: 7f3c…`, as
 * clients have always read it), else quoted by {@link quoteClientValue}.
 */
export function clientIdentifier(value: string): string {
  return value.length <= QUOTED_VALUE_CHARS && /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value)
    ? value
    : quoteClientValue(value);
}
