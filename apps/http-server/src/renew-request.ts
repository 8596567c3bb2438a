import { ChatbotError, quoteClientValue, type SessionVersion } from "@chatgptchatbot/core";
import type { RenewInput } from "./default-session.js";
import { requiredString } from "./json-body.js";

/**
 * Reads the body of `POST /renew`: `{"access_token": "..."}` as the old
 * service took it (version 1), or `{"api_key": "...", "version": 3}`. Without a
 * `version`, an `api_key` alone means 3 and anything else 1.
 *
 * @throws InvalidArgument (400) when the credential is missing or not a string,
 *   or the version is not 1 or 3.
 */
export function parseRenewRequest(body: Record<string, unknown>): RenewInput {
  const field = body.access_token === undefined && body.api_key !== undefined ? "api_key" : "access_token";
  const credential = requiredString(body, field);
  let version: SessionVersion = field === "api_key" ? 3 : 1;
  if (body.version !== undefined && body.version !== null) {
    const v = typeof body.version === "string" && /^\d+$/.test(body.version) ? Number(body.version) : body.version;
    if (v !== 1 && v !== 3) {
      throw ChatbotError.invalidArgument(
        `unsupported version ${quoteClientValue(body.version)}: use 1 (access token) or 3 (API key)`,
      );
    }
    version = v;
  }
  return { version, credential };
}
