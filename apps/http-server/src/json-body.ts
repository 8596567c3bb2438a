import { ChatbotError, jsonTooDeep, MAX_JSON_DEPTH } from "@chatgptchatbot/core";

/**
 * Parses a request body as a JSON object, whatever its Content-Type: existing
 * clients send `curl -d '{"prompt": "..."}'`, which says
 * `application/x-www-form-urlencoded`, and the old service read it as JSON.
 *
 * @throws InvalidArgument (400) for a body that is not a JSON object, or nests
 *   deeper than MAX_JSON_DEPTH.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  // Before parsing: a deep body parses, then overflows whatever walks it (a message, a log line).
  if (jsonTooDeep(text))
    throw ChatbotError.invalidArgument(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw ChatbotError.invalidArgument(
      text.trim() === "" ? "the request body is empty: send a JSON object" : "the request body is not valid JSON",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw ChatbotError.invalidArgument("the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * A string field of a JSON body.
 *
 * @throws InvalidArgument (400) `<field> is required` when it is missing, null
 *   or empty, `<field> must be a string` when it is something else.
 */
export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === "") throw ChatbotError.invalidArgument(`${field} is required`);
  if (typeof value !== "string") throw ChatbotError.invalidArgument(`${field} must be a string`);
  return value;
}
