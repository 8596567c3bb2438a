import { ChatbotError } from "./errors.js";

/**
 * The longest session id a call may name. Ids are the pool's UUIDs (36
 * characters); the bound leaves room for ids made elsewhere while keeping a
 * made-up megabyte id from reaching the store (in Redis, a chat on an id
 * takes the session's turn, which writes keys named after it).
 */
export const MAX_SESSION_ID_CHARS = 128;

/**
 * Checks a session id from a client before anything is done for it.
 *
 * @throws InvalidArgument when it is empty or longer than {@link MAX_SESSION_ID_CHARS}
 *   (an unknown id of a normal length is the caller's SessionNotFound).
 */
export function checkSessionId(sessionId: string): void {
  if (sessionId === "") throw ChatbotError.invalidArgument("session_id is required");
  if (sessionId.length > MAX_SESSION_ID_CHARS) {
    throw ChatbotError.invalidArgument(`session_id is longer than ${MAX_SESSION_ID_CHARS} characters`);
  }
}

/** Whether a session id is one {@link checkSessionId} accepts (for lookups that answer "absent" instead of throwing). */
export function isPlausibleSessionId(sessionId: string): boolean {
  return sessionId !== "" && sessionId.length <= MAX_SESSION_ID_CHARS;
}
