import { clientIdentifier, quoteClientValue } from "./client-value.js";
import { credentialProblem } from "./credential.js";
import { ChatbotError } from "./errors.js";
import { jsonTooDeep, MAX_JSON_DEPTH } from "./json-depth.js";

/**
 * The backend a session talks to, by the old service's `version` numbers:
 * 1 = the ChatGPT web conversation protocol with an access token,
 * 3 = an OpenAI-compatible chat-completions API with an API key.
 */
export type SessionVersion = 1 | 3;
export const SUPPORTED_VERSIONS: readonly SessionVersion[] = [1, 3];

/** A session's validated configuration: plain, serializable data. */
export interface SessionConfig {
  readonly version: SessionVersion;
  /** Credentials to use, in order of preference; never empty. */
  readonly credentials: readonly string[];
  /** True when the credentials are the server's default ones, not the client's. */
  readonly serverCredential: boolean;
  /** Model name; undefined means the backend's default. */
  readonly model: string | undefined;
  /** Upstream base URL; undefined means the server's configured one. */
  readonly baseUrl: string | undefined;
  readonly temperature: number | undefined;
  /** Token budget for system prompt + history + new prompt. */
  readonly maxTokens: number;
  /** Whether replies pass through the speech reply filter. */
  readonly filter: boolean;
}

/** Server-side settings that shape how a client's config is read. */
export interface SessionConfigDefaults {
  /** Server default API keys, used by version-3 sessions whose config has none. */
  readonly apiKeys?: readonly string[];
  /** Server default access tokens, used by version-1 sessions whose config has none. */
  readonly accessTokens?: readonly string[];
  /** Default history budget in tokens (3000). */
  readonly maxTokens?: number;
  /**
   * Hosts (`host` or `host:port`, case-insensitive) a client-given `base_url`
   * may point at. Undefined or empty: any host.
   */
  readonly allowedUpstreamHosts?: readonly string[];
}

export const DEFAULT_MAX_TOKENS = 3000;
/** Most keys one config's `api_keys` may list. */
const MAX_API_KEYS = 64;
const REQUIRED = "version & access_token|api_key is required";

/**
 * Parses and validates the `config` string of NewSession, as existing clients
 * send it: `{"version": 3, "api_key": "..."}` or `{"version": 1,
 * "access_token": "..."}` (either key accepted for either version). Optional:
 * `model`, `base_url`, `temperature`, `max_tokens`, `filter`, `api_keys`.
 * Unknown fields are ignored. An empty string means "the server's defaults".
 *
 * @throws ChatbotError InvalidArgument saying exactly what is wrong.
 */
export function parseSessionConfig(raw: string, defaults: SessionConfigDefaults = {}): SessionConfig {
  const trimmed = raw.trim();
  let obj: Record<string, unknown>;
  if (trimmed === "") {
    obj = {};
  } else {
    // Checked before parsing: a deep value parses, then overflows whatever walks it.
    if (jsonTooDeep(trimmed)) throw invalid(`config nests deeper than ${MAX_JSON_DEPTH} levels`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      // Never echo the parser's message: it quotes the text around the error,
      // which may be the client's credential.
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      throw invalid(`config is not valid JSON${position === undefined ? "" : ` (error at position ${position})`}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw invalid(`config must be a JSON object, got ${describe(parsed)}`);
    }
    obj = parsed as Record<string, unknown>;
  }

  const defaultApiKeys = nonEmpty(defaults.apiKeys);
  const defaultTokens = nonEmpty(defaults.accessTokens);

  // version: required, unless the config is empty and the server has a default credential.
  let version: SessionVersion;
  if (obj.version === undefined || obj.version === null) {
    if (trimmed !== "") throw invalid("config has no version (1 = access token, 3 = API key)");
    if (defaultApiKeys.length > 0) version = 3;
    else if (defaultTokens.length > 0) version = 1;
    else throw invalid("config is empty and the server has no default credential");
  } else {
    const v = typeof obj.version === "string" && /^\d+$/.test(obj.version) ? Number(obj.version) : obj.version;
    if (v !== 1 && v !== 3) {
      throw invalid(`unsupported version ${quoteClientValue(obj.version)}: use 1 (access token) or 3 (API key)`);
    }
    version = v;
  }

  // credentials: the client's own (either key name, plus api_keys), else the server's.
  const own: string[] = [];
  for (const field of ["api_key", "access_token"] as const) {
    const value = obj[field];
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string") throw invalid(`${field} must be a string, got ${describe(value)}`);
    own.push(checkedCredential(field, value));
  }
  if (obj.api_keys !== undefined && obj.api_keys !== null) {
    if (!Array.isArray(obj.api_keys) || obj.api_keys.some((k) => typeof k !== "string" || k.trim() === "")) {
      throw invalid("api_keys must be an array of non-empty strings");
    }
    if (obj.api_keys.length > MAX_API_KEYS) throw invalid(`api_keys must hold at most ${MAX_API_KEYS} keys`);
    (obj.api_keys as string[]).forEach((key, i) => own.push(checkedCredential(`api_keys[${i}]`, key)));
  }

  const baseUrl = optionalBaseUrl(obj.base_url, defaults.allowedUpstreamHosts);
  let credentials: string[] = [...new Set(own)];
  let serverCredential = false;
  if (credentials.length === 0) {
    const fallback = version === 3 ? defaultApiKeys : defaultTokens;
    if (fallback.length === 0) {
      throw invalid(version === 3 ? "config has no api_key" : "config has no access_token");
    }
    if (baseUrl !== undefined) {
      // The operator's credential goes only to the operator's endpoint.
      throw invalid("a config that sets base_url must bring its own credential");
    }
    credentials = [...fallback];
    serverCredential = true;
  }

  return {
    version,
    credentials,
    serverCredential,
    model: optionalString(obj, "model"),
    baseUrl,
    temperature: optionalNumber(obj, "temperature", 0, 2),
    maxTokens: optionalInteger(obj, "max_tokens", 1, 10_000_000) ?? defaults.maxTokens ?? DEFAULT_MAX_TOKENS,
    filter: optionalBoolean(obj, "filter") ?? version === 3,
  };
}

/** A trimmed credential that can be sent in an HTTP header; else InvalidArgument naming the field, never the value. */
function checkedCredential(field: string, value: string): string {
  const credential = value.trim();
  const problem = credentialProblem(credential);
  if (problem !== undefined) throw invalid(`${field} ${problem}`);
  return credential;
}

function invalid(reason: string): ChatbotError {
  return ChatbotError.invalidArgument(`${REQUIRED}: ${reason}`);
}

function nonEmpty(list: readonly string[] | undefined): string[] {
  return (list ?? []).map((s) => s.trim()).filter((s) => s !== "");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function optionalString(obj: Record<string, unknown>, field: string): string | undefined {
  const value = obj[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw invalid(`${field} must be a string, got ${describe(value)}`);
  return value.trim();
}

function optionalNumber(obj: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${field} must be a number from ${min} to ${max}`);
  }
  return value;
}

function optionalInteger(obj: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = optionalNumber(obj, field, min, max);
  if (value !== undefined && !Number.isInteger(value)) throw invalid(`${field} must be a whole number`);
  return value;
}

function optionalBoolean(obj: Record<string, unknown>, field: string): boolean | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalid(`${field} must be true or false`);
  return value;
}

function optionalBaseUrl(value: unknown, allowedHosts: readonly string[] | undefined): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw invalid(`base_url must be a string, got ${describe(value)}`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid("base_url is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("base_url must be an http or https URL");
  if (url.username !== "" || url.password !== "") throw invalid("base_url must not carry user info");
  const allowed = nonEmpty(allowedHosts).map((h) => h.toLowerCase());
  if (allowed.length > 0 && !allowed.includes(url.host.toLowerCase()) && !allowed.includes(url.hostname.toLowerCase())) {
    throw invalid(`base_url host ${clientIdentifier(url.host)} is not in the server's allowlist of upstream hosts`);
  }
  return value.trim();
}
