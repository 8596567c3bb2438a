import {
  ACCESS_TOKEN_KIND,
  API_KEY_KIND,
  type BackendKind,
  type BackendKindRegistry,
  type BackendKindSpec,
  BUILTIN_BACKEND_KINDS,
} from "./backend-kinds.js";
import { clientIdentifier, quoteClientValue } from "./client-value.js";
import { credentialProblem } from "./credential.js";
import { ChatbotError } from "./errors.js";
import { jsonTooDeep, MAX_JSON_DEPTH } from "./json-depth.js";

/**
 * The `version` number a client's config names its backend by (the old
 * service's numbers: 1 = access token, 3 = API key). Only the parser reads
 * it; everything after keys by {@link SessionConfig.kind}.
 */
export type SessionVersion = number;
/** The versions the built-in backend kinds answer to, lowest first. */
export const SUPPORTED_VERSIONS: readonly SessionVersion[] = BUILTIN_BACKEND_KINDS.specs
  .map((spec) => spec.version)
  .sort((a, b) => a - b);

/** A session's validated configuration: plain, serializable data. */
export interface SessionConfig {
  /** The backend kind, mapped from the config's version (see backend-kinds.ts). */
  readonly kind: BackendKind;
  /** The version as the client named it, kept only to show it back. */
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
  /** Server default credentials by backend kind, for sessions whose config has none. */
  readonly credentials?: { readonly [kind: BackendKind]: readonly string[] | undefined };
  /** Server default API keys (the "api-key" kind's entry of `credentials`). */
  readonly apiKeys?: readonly string[];
  /** Server default access tokens (the "access-token" kind's entry of `credentials`). */
  readonly accessTokens?: readonly string[];
  /** The backend kinds the server knows (default: the built-in two). */
  readonly kinds?: BackendKindRegistry;
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

  const kinds = defaults.kinds ?? BUILTIN_BACKEND_KINDS;
  const serverCredentials = (kind: BackendKind): string[] => nonEmpty(defaultCredentials(defaults, kind));

  // version: required, unless the config is empty and the server has a default credential.
  let spec: BackendKindSpec;
  if (obj.version === undefined || obj.version === null) {
    if (trimmed !== "") {
      throw invalid(
        `config has no version (${kinds.describeVersions((k) => `${k.version} = ${k.credentialLabel}`).join(", ")})`,
      );
    }
    const preferred = kinds.specs.find((k) => serverCredentials(k.kind).length > 0);
    if (preferred === undefined) throw invalid("config is empty and the server has no default credential");
    spec = preferred;
  } else {
    const v = typeof obj.version === "string" && /^\d+$/.test(obj.version) ? Number(obj.version) : obj.version;
    const named = typeof v === "number" ? kinds.byVersion(v) : undefined;
    if (named === undefined) {
      const choices = kinds.describeVersions((k) => `${k.version} (${k.credentialLabel})`);
      const listed = choices.length > 1 ? `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}` : choices.join("");
      throw invalid(`unsupported version ${quoteClientValue(obj.version)}: use ${listed}`);
    }
    spec = named;
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
    for (const [i, key] of (obj.api_keys as string[]).entries()) own.push(checkedCredential(`api_keys[${i}]`, key));
  }

  const baseUrl = optionalBaseUrl(obj.base_url, defaults.allowedUpstreamHosts);
  let credentials: string[] = [...new Set(own)];
  let serverCredential = false;
  if (credentials.length === 0) {
    const fallback = serverCredentials(spec.kind);
    if (fallback.length === 0) throw invalid(`config has no ${spec.credentialField}`);
    if (baseUrl !== undefined) {
      // The operator's credential goes only to the operator's endpoint.
      throw invalid("a config that sets base_url must bring its own credential");
    }
    credentials = [...fallback];
    serverCredential = true;
  }

  return {
    kind: spec.kind,
    version: spec.version,
    credentials,
    serverCredential,
    model: optionalString(obj, "model"),
    baseUrl,
    temperature: optionalNumber(obj, "temperature", 0, 2),
    maxTokens: optionalInteger(obj, "max_tokens", 1, 10_000_000) ?? defaults.maxTokens ?? DEFAULT_MAX_TOKENS,
    filter: optionalBoolean(obj, "filter") ?? spec.filterByDefault,
  };
}

/** The server's default credentials for a kind: `credentials[kind]`, or the built-in kinds' own fields. */
function defaultCredentials(defaults: SessionConfigDefaults, kind: BackendKind): readonly string[] | undefined {
  const byKind = defaults.credentials?.[kind];
  if (byKind !== undefined) return byKind;
  if (kind === API_KEY_KIND) return defaults.apiKeys;
  if (kind === ACCESS_TOKEN_KIND) return defaults.accessTokens;
  return undefined;
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
  if (
    allowed.length > 0 &&
    !allowed.includes(url.host.toLowerCase()) &&
    !allowed.includes(url.hostname.toLowerCase())
  ) {
    throw invalid(`base_url host ${clientIdentifier(url.host)} is not in the server's allowlist of upstream hosts`);
  }
  return value.trim();
}
