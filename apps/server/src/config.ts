/**
 * The program's configuration: every environment variable, its default and
 * its validation, in one table. Read once at start into a typed object that
 * is passed down; libraries never read `process.env` themselves. Defaults
 * are the libraries' exported constants, so none is written twice.
 */

import { closeSync, openSync, readSync } from "node:fs";
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS } from "@chatgptchatbot/chatgpt-client";
import {
  ConfigError,
  credentialProblem,
  DEFAULT_ACCESS_TOKEN_COOLDOWN_MS,
  DEFAULT_API_KEY_COOLDOWN_MS,
  DEFAULT_FIRST_SEGMENT_MIN_LENGTH,
  DEFAULT_MAX_INITIAL_PROMPT_CHARS,
  DEFAULT_MAX_PROMPT_CHARS,
  DEFAULT_MAX_SEGMENT_LENGTH,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_RENEW_INTERVAL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  MIN_MAX_SEGMENT_LENGTH,
} from "@chatgptchatbot/core";
import { DEFAULT_GRPC_CLOSE_TIMEOUT_MS } from "@chatgptchatbot/grpc-server";
import { DEFAULT_BODY_LIMIT_BYTES } from "@chatgptchatbot/http-server";
import { DEFAULT_REDIS_PREFIX, RedisKeys } from "@chatgptchatbot/store-redis";
import { parseStoreKey } from "@chatgptchatbot/store-sqlite";
import { accessTokenLines, accessTokenProblem, MAX_ACCESS_TOKENS_FILE_BYTES } from "./access-tokens.js";
import { DEFAULT_IDLE_GC_AFTER_MS } from "./idle-memory-reducer.js";
import { parseStoreChoice, type StoreChoice } from "./store-choice.js";

export type LogFormat = "json" | "pretty";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The typed configuration the program is built from (pool, backends and both transports). */
export interface ServerConfig {
  /** Minimum ms between upstream requests per access token (CHATGPT_COOLDOWN). */
  readonly accessTokenCooldownMs: number;
  /** Minimum ms between upstream requests per API key (CHATGPT_V3_COOLDOWN). */
  readonly apiKeyCooldownMs: number;
  readonly maxSessions: number;
  readonly renewIntervalMs: number;
  readonly sweepIntervalMs: number;
  /** Default history budget in tokens. */
  readonly maxTokens: number;
  /** Largest prompt of a chat turn, in characters (CHATBOT_MAX_PROMPT_CHARS). */
  readonly maxPromptChars: number;
  /** Largest initial (system) prompt, in characters (CHATBOT_MAX_INITIAL_PROMPT_CHARS). */
  readonly maxInitialPromptChars: number;
  /** Width from which a streamed reply's first segment may end at a clause mark (CHATBOT_FIRST_SEGMENT_MIN_LENGTH). */
  readonly firstSegmentMinLength: number;
  /** Width beyond which a streamed segment is cut at its last clause mark or space (CHATBOT_MAX_SEGMENT_LENGTH). */
  readonly maxSegmentLength: number;
  /** OpenAI-compatible endpoint (base URL or full chat-completions URL); undefined: OpenAI's. */
  readonly apiUrl: string | undefined;
  /** ChatGPT-web reverse proxy base URL; undefined: access-token sessions need their own base_url. */
  readonly chatgptBaseUrl: string | undefined;
  /** Default model; undefined: the backend's default. */
  readonly model: string | undefined;
  /** Server default API keys, for sessions whose config has none. */
  readonly defaultApiKeys: readonly string[];
  /** Server default access tokens, for sessions whose config has none. */
  readonly defaultAccessTokens: readonly string[];
  /** Hosts a client-given base_url may name; empty: any. */
  readonly allowedUpstreamHosts: readonly string[];
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  readonly grpcReflection: boolean;
  /** Origins allowed by CORS; ["*"] for any; [] for same-origin only. */
  readonly corsOrigins: readonly string[];
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** Quiet ms before V8's heap is given back (CHATBOT_IDLE_GC_AFTER); 0: never. */
  readonly idleGcAfterMs: number;
  /** Largest accepted HTTP request body, in bytes. */
  readonly httpBodyLimitBytes: number;
  /** Serve GET /metrics (Prometheus) on the gRPC and HTTP API ports (CHATBOT_METRICS). */
  readonly metrics: boolean;
  /** Tokens clients must send as `authorization: Bearer <token>`; empty: no token needed. */
  readonly authTokens: readonly string[];
  /** The file the tokens were read from (CHATBOT_AUTH_TOKENS_FILE), if any. */
  readonly authTokensFile: string | undefined;
  /** `/metrics` answers without a token even when tokens are set. */
  readonly metricsPublic: boolean;
  /** Extra Host names browsers may use (beyond loopback, IP literals and the bound names); ["*"]: no host check. */
  readonly allowedHosts: readonly string[];
  /** LOG_FORMAT; undefined: pretty on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  /** Where sessions are kept (CHATBOT_STORE). */
  readonly store: StoreChoice;
  /** CHATBOT_STORE_KEY as given (validated), or undefined. A secret: never logged. */
  readonly storeKey: string | undefined;
  /** CHATBOT_REDIS_PREFIX: what every Redis key starts with. */
  readonly redisPrefix: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Spec<K extends keyof ServerConfig> {
  readonly env: string;
  /** Other variable names read when `env` is unset, in order. */
  readonly aliases?: readonly string[];
  readonly key: K;
  readonly default: string;
  readonly description: string;
  readonly parse: (value: string, name: string) => ServerConfig[K];
}

/** The longest delay Node's timers accept (2^31 - 1 ms, about 24.8 days), in seconds. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const seconds =
  (min = 0) =>
  (value: string, name: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > MAX_TIMER_SECONDS) {
      throw new ConfigError(
        name,
        `expected a number of seconds from ${min} to ${MAX_TIMER_SECONDS}, got ${JSON.stringify(value)}`,
      );
    }
    return Math.round(n * 1000);
  };

const integer =
  (min: number) =>
  (value: string, name: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) {
      throw new ConfigError(name, `expected a whole number >= ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };

/** A whole number in [min, max]: for settings whose library rejects what is out of range. */
const integerFrom =
  (min: number, max: number) =>
  (value: string, name: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };

/** The widest segment setting accepted: far beyond any reply worth speaking in one piece. */
const MAX_SEGMENT_SETTING = 100_000;

const boolean = (value: string, name: string): boolean => {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(value)}`);
};

const url = (value: string, name: string): string | undefined => {
  const v = value.trim();
  if (v === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return v;
};

const optionalString = (value: string): string | undefined => (value.trim() === "" ? undefined : value.trim());

const list = (value: string): string[] =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** Comma-separated credentials, each one sendable in an HTTP header; the error names its position, never the value. */
const credentials = (value: string, name: string): string[] => {
  const items = list(value);
  items.forEach((item, i) => {
    const problem = credentialProblem(item);
    if (problem !== undefined) throw new ConfigError(name, `credential ${i + 1} ${problem}`);
  });
  return items;
};

const nonEmptyList =
  (check: (item: string, name: string) => void) =>
  (value: string, name: string): string[] => {
    const items = list(value);
    if (items.length === 0)
      throw new ConfigError(name, `expected a comma-separated list, got ${JSON.stringify(value)}`);
    for (const item of items) check(item, name);
    return items;
  };

/** `*`, or an origin as browsers send it: scheme://host[:port], no path. */
const checkOrigin = (item: string, name: string): void => {
  if (item === "*") return;
  let url: URL | undefined;
  try {
    url = new URL(item);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.origin !== item.replace(/\/+$/, "").toLowerCase()
  ) {
    throw new ConfigError(name, `expected * or origins like https://app.example:8080, got ${JSON.stringify(item)}`);
  }
};

/** host or host:port (a DNS name, IPv4, or [IPv6]). */
const checkHost = (item: string, name: string): void => {
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i.test(item)) {
    throw new ConfigError(name, `expected hosts like api.example.com or 127.0.0.1:8080, got ${JSON.stringify(item)}`);
  }
};

/** Comma-separated access tokens; the error names a token by position, never by value. */
const accessTokens = (value: string, name: string): string[] => {
  const items = list(value);
  items.forEach((item, i) => {
    const problem = accessTokenProblem(item);
    if (problem !== undefined) throw new ConfigError(name, `token ${i + 1} ${problem}`);
  });
  return items;
};

/** `*`, names (chatbot.example.com) or suffix wildcards (*.example.com); no port: any port of a name is that name. */
const checkAllowedHost = (item: string, name: string): void => {
  if (item === "*") return;
  if (!/^(\*\.)?[a-z0-9]([a-z0-9_.-]*[a-z0-9])?\.?$/i.test(item)) {
    throw new ConfigError(
      name,
      `expected * or names like chatbot.example.com or *.example.com (no port), got ${JSON.stringify(item)}`,
    );
  }
};

const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];
const logFormat = (value: string, name: string): LogFormat | undefined => {
  const v = value.trim().toLowerCase();
  if (v === "") return undefined;
  if (!(LOG_FORMATS as readonly string[]).includes(v)) {
    throw new ConfigError(name, `expected json or pretty, got ${JSON.stringify(value)}`);
  }
  return v as LogFormat;
};

/** CHATBOT_STORE_KEY: checked now, so a bad key stops the start naming the variable (never echoing the key). */
const storeKey = (value: string, name: string): string | undefined => {
  if (value.trim() === "") return undefined;
  const parsed = parseStoreKey(value);
  if (!parsed.ok) throw new ConfigError(name, parsed.reason.replace(/^CHATBOT_STORE_KEY /, ""));
  return value.trim();
};

/** CHATBOT_REDIS_PREFIX: what RedisKeys accepts (checked now, so a bad one stops the start naming the variable). */
const redisPrefix = (value: string, name: string): string => {
  try {
    return new RedisKeys({ prefix: value }).prefix;
  } catch (error) {
    throw new ConfigError(name, error instanceof Error ? error.message : String(error));
  }
};

/** A default given in ms, as the table's seconds. */
const inSeconds = (ms: number): string => String(ms / 1000);

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const logLevel = (value: string, name: string): LogLevel => {
  const v = value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new ConfigError(name, `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return v as LogLevel;
};

/** Every environment variable the server reads. The order is the order of `--help`. */
const SPECS = [
  {
    env: "CHATGPT_COOLDOWN",
    key: "accessTokenCooldownMs",
    default: inSeconds(DEFAULT_ACCESS_TOKEN_COOLDOWN_MS),
    parse: seconds(),
    description: "Seconds between two upstream requests per access token (version 1 sessions); 0 disables.",
  },
  {
    env: "CHATGPT_V3_COOLDOWN",
    key: "apiKeyCooldownMs",
    default: inSeconds(DEFAULT_API_KEY_COOLDOWN_MS),
    parse: seconds(),
    description: "Seconds between two upstream requests per API key (version 3 sessions); 0 disables.",
  },
  {
    env: "CHATBOT_MAX_SESSIONS",
    key: "maxSessions",
    default: String(DEFAULT_MAX_SESSIONS),
    parse: integer(1),
    description: "Most sessions held at once; when full, idle (zombie) sessions are evicted first.",
  },
  {
    env: "CHATBOT_RENEW_INTERVAL",
    key: "renewIntervalMs",
    default: inSeconds(DEFAULT_RENEW_INTERVAL_MS),
    parse: seconds(),
    description:
      "Seconds after which a conversation is reset (system prompt kept); sessions idle for twice this are zombies. 0 disables.",
  },
  {
    env: "CHATBOT_SWEEP_INTERVAL",
    key: "sweepIntervalMs",
    default: inSeconds(DEFAULT_SWEEP_INTERVAL_MS),
    parse: seconds(),
    description: "Seconds between background sweeps that renew and evict; 0 disables the sweep.",
  },
  {
    env: "CHATBOT_MAX_TOKENS",
    key: "maxTokens",
    default: String(DEFAULT_MAX_TOKENS),
    parse: integer(1),
    description: "Default token budget for system prompt + history + prompt (a session's max_tokens overrides).",
  },
  {
    env: "CHATBOT_MAX_PROMPT_CHARS",
    key: "maxPromptChars",
    default: String(DEFAULT_MAX_PROMPT_CHARS),
    parse: integer(1),
    description:
      "Largest prompt of one chat turn (Chat, ChatStream, /ask), in characters (Unicode code points); longer: INVALID_ARGUMENT / 400, before any work is done for it.",
  },
  {
    env: "CHATBOT_MAX_INITIAL_PROMPT_CHARS",
    key: "maxInitialPromptChars",
    default: String(DEFAULT_MAX_INITIAL_PROMPT_CHARS),
    parse: integer(1),
    description:
      "Largest initial (system) prompt of NewSession, in characters (Unicode code points); longer: INVALID_ARGUMENT.",
  },
  {
    env: "CHATBOT_FIRST_SEGMENT_MIN_LENGTH",
    key: "firstSegmentMinLength",
    default: String(DEFAULT_FIRST_SEGMENT_MIN_LENGTH),
    parse: integerFrom(1, MAX_SEGMENT_SETTING),
    description:
      "Streamed replies (ChatStream, /ask as text/event-stream): width (a CJK character counts 2) from which the first segment may end at a clause mark (，、,;：:), so speech starts early.",
  },
  {
    env: "CHATBOT_MAX_SEGMENT_LENGTH",
    key: "maxSegmentLength",
    default: String(DEFAULT_MAX_SEGMENT_LENGTH),
    parse: integerFrom(MIN_MAX_SEGMENT_LENGTH, MAX_SEGMENT_SETTING),
    description: `Streamed replies: width (a CJK character counts 2) beyond which a segment is cut at its last clause mark or space; at least ${MIN_MAX_SEGMENT_LENGTH}.`,
  },
  {
    env: "API_URL",
    key: "apiUrl",
    default: "",
    parse: url,
    description:
      "OpenAI-compatible endpoint for API-key sessions: a base URL (https://host/v1) or the full chat-completions URL. Empty: OpenAI.",
  },
  {
    env: "CHATGPT_BASE_URL",
    key: "chatgptBaseUrl",
    default: "",
    parse: url,
    description:
      "ChatGPT-web reverse proxy base URL for access-token sessions. Empty: such sessions must set base_url.",
  },
  {
    env: "CHATGPT_MODEL",
    key: "model",
    default: "",
    parse: optionalString,
    description: "Default model when a session's config names none. Empty: the backend's default.",
  },
  {
    env: "OPENAI_API_KEYS",
    aliases: ["OPENAI_API_KEY"],
    key: "defaultApiKeys",
    default: "",
    parse: credentials,
    description:
      "Server default API key(s), comma-separated (OPENAI_API_KEY is read when this is unset), for sessions whose config has none. Only ever sent to API_URL. Each: visible ASCII, at most 4096 characters.",
  },
  {
    env: "CHATGPT_ACCESS_TOKENS",
    aliases: ["CHATGPT_ACCESS_TOKEN"],
    key: "defaultAccessTokens",
    default: "",
    parse: credentials,
    description:
      "Server default access token(s), comma-separated (CHATGPT_ACCESS_TOKEN is read when this is unset). Only ever sent to CHATGPT_BASE_URL. Each: visible ASCII, at most 4096 characters.",
  },
  {
    env: "CHATBOT_ALLOWED_UPSTREAM_HOSTS",
    key: "allowedUpstreamHosts",
    default: "",
    parse: (v: string, n: string) => (v.trim() === "" ? [] : nonEmptyList(checkHost)(v, n)),
    description: "Comma-separated hosts (host or host:port) a client's base_url may name. Empty: any host.",
  },
  {
    env: "CHATBOT_REQUEST_TIMEOUT",
    key: "requestTimeoutMs",
    default: inSeconds(DEFAULT_REQUEST_TIMEOUT_MS),
    parse: seconds(0.001),
    description: "Seconds before an upstream request times out.",
  },
  {
    env: "CHATBOT_MAX_RETRIES",
    key: "maxRetries",
    default: String(DEFAULT_MAX_RETRIES),
    parse: integer(0),
    description: "Retries of an upstream request on 429 and 5xx (with backoff, honouring Retry-After).",
  },
  {
    env: "GRPC_REFLECTION",
    key: "grpcReflection",
    default: "false",
    parse: boolean,
    description: "Serve gRPC server reflection (also on with --debug).",
  },
  {
    env: "CHATBOT_CORS_ORIGINS",
    key: "corsOrigins",
    default: "",
    parse: (v: string, n: string) => (v.trim() === "" ? [] : nonEmptyList(checkOrigin)(v, n)),
    description:
      "Comma-separated origins browsers may call from (https://app.example:8080), or * for any. Unset: * when the server has no default credential; same-origin only when it has one, so other sites' pages cannot spend the operator's key.",
  },
  {
    env: "LOG_LEVEL",
    key: "logLevel",
    default: "info",
    parse: logLevel,
    description:
      "fatal, error, warn, info, debug, trace or silent (--debug sets debug). Prompts and replies are logged only at debug.",
  },
  {
    env: "CHATBOT_SHUTDOWN_TIMEOUT",
    key: "shutdownTimeoutMs",
    default: inSeconds(DEFAULT_GRPC_CLOSE_TIMEOUT_MS),
    parse: seconds(),
    description: "Seconds in-flight calls may take to finish after SIGINT/SIGTERM.",
  },
  {
    env: "CHATBOT_IDLE_GC_AFTER",
    key: "idleGcAfterMs",
    default: inSeconds(DEFAULT_IDLE_GC_AFTER_MS),
    parse: seconds(),
    description:
      "Seconds without a session call (NewSession or a chat turn; health checks do not count) after which one memory-reducing garbage collection gives the memory V8 grew under load back to the system; again only after the next busy spell (the first one, after the start, once the program has been quiet for 5 s or this long if shorter). 0 disables.",
  },
  {
    env: "CHATBOT_HTTP_BODY_LIMIT",
    key: "httpBodyLimitBytes",
    default: String(DEFAULT_BODY_LIMIT_BYTES),
    parse: integer(1),
    description: "Largest HTTP API request body, in bytes (413 beyond).",
  },
  {
    env: "CHATBOT_METRICS",
    key: "metrics",
    default: "true",
    parse: boolean,
    description:
      "Serve GET /metrics (Prometheus text format: calls, upstream requests, tokens, store, Node process) on the gRPC port and on the HTTP API's port; false: 404.",
  },
  {
    env: "CHATBOT_AUTH_TOKENS",
    key: "authTokens",
    default: "",
    parse: accessTokens,
    description:
      "Comma-separated access tokens for this server. Set: every RPC but health, every HTTP API route but /healthz, and /metrics need authorization: Bearer <token> (else UNAUTHENTICATED / 401). Each: 16 to 4096 visible ASCII characters. Unset: no token needed.",
  },
  {
    env: "CHATBOT_AUTH_TOKENS_FILE",
    key: "authTokensFile",
    default: "",
    parse: optionalString,
    description:
      "A file of access tokens, one a line (blank lines and # comments skipped), read at start instead of CHATBOT_AUTH_TOKENS; unreadable or empty: the start fails.",
  },
  {
    env: "CHATBOT_METRICS_PUBLIC",
    key: "metricsPublic",
    default: "false",
    parse: boolean,
    description:
      "true: /metrics answers without a token even when access tokens are set (for a scraper on a trusted network).",
  },
  {
    env: "CHATBOT_ALLOWED_HOSTS",
    key: "allowedHosts",
    default: "",
    parse: (v: string, n: string) => (v.trim() === "" ? [] : nonEmptyList(checkAllowedHost)(v, n)),
    description:
      "Comma-separated names (chatbot.example.com, *.example.com) browsers may reach the server by, beyond loopback names, IP literals and the --grpc/--http host; browser requests naming another Host get 403 / PERMISSION_DENIED (DNS rebinding). * turns the check off.",
  },
  {
    env: "LOG_FORMAT",
    key: "logFormat",
    default: "",
    parse: logFormat,
    description: "json or pretty. Unset: human-readable lines when stdout is a terminal, JSON lines otherwise.",
  },
  {
    env: "CHATBOT_STORE",
    key: "store",
    default: "",
    parse: parseStoreChoice,
    description:
      "Where sessions are kept: sqlite:PATH (a file: sessions, the HTTP API's default session and each credential's cooldown survive a restart), memory (lost on restart), or redis://[[user]:password@]host:port[/db] (or rediss:// for TLS): shared by every replica on that Redis (see Running several replicas). Unset: SQLite at $XDG_STATE_HOME/chatgptchatbot/sessions.db, or ~/.local/state/chatgptchatbot/sessions.db without XDG_STATE_HOME.",
  },
  {
    env: "CHATBOT_STORE_KEY",
    key: "storeKey",
    default: "",
    parse: storeKey,
    description:
      "32 random bytes in base64 (openssl rand -base64 32): the credentials the SQLite or Redis store keeps are encrypted with it (AES-256-GCM). A store written with a key does not start without it; every replica on one Redis needs the same key.",
  },
  {
    env: "CHATBOT_REDIS_PREFIX",
    key: "redisPrefix",
    default: DEFAULT_REDIS_PREFIX,
    parse: redisPrefix,
    description:
      "What every Redis key starts with (CHATBOT_STORE=redis://…), so several deployments can share one Redis; replicas of one deployment use the same prefix. At most 128 characters, no spaces.",
  },
] as const satisfies readonly Spec<keyof ServerConfig>[];

/** Variables read by the backends' HTTP layer, listed for `--help`. */
const PASSTHROUGH = [
  { env: "HTTP_PROXY / HTTPS_PROXY", description: "Proxy for upstream traffic (http:// or https:// upstreams)." },
  { env: "NO_PROXY", description: "Comma-separated hosts that bypass the proxy." },
] as const;

export interface ReadConfigOptions {
  /** Reads CHATBOT_AUTH_TOKENS_FILE (default: node:fs, at most 1 MiB); throws when it cannot. */
  readonly readFile?: (path: string) => string;
}

/** A file's text, refusing one larger than {@link MAX_ACCESS_TOKENS_FILE_BYTES} (a wrong path, a device). */
function readSmallFile(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(MAX_ACCESS_TOKENS_FILE_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_ACCESS_TOKENS_FILE_BYTES) throw new Error(`larger than ${MAX_ACCESS_TOKENS_FILE_BYTES} bytes`);
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The tokens of CHATBOT_AUTH_TOKENS_FILE; a file that cannot be read or holds no token stops the start. */
function tokensFromFile(config: ServerConfig, readFile: (path: string) => string): string[] {
  const name = "CHATBOT_AUTH_TOKENS_FILE";
  const path = config.authTokensFile!;
  if (config.authTokens.length > 0)
    throw new ConfigError(name, "set either CHATBOT_AUTH_TOKENS or CHATBOT_AUTH_TOKENS_FILE, not both");
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    throw new ConfigError(name, `cannot read ${JSON.stringify(path)}: ${err.code ?? err.message}`);
  }
  const tokens = accessTokenLines(text);
  if (tokens.length === 0) throw new ConfigError(name, `${JSON.stringify(path)} holds no token`);
  tokens.forEach((token, i) => {
    const problem = accessTokenProblem(token);
    if (problem !== undefined) throw new ConfigError(name, `token ${i + 1} of the file ${problem}`);
  });
  return tokens;
}

/**
 * Reads and validates the configuration from an environment.
 *
 * @throws ConfigError naming the first bad variable.
 */
export function readConfig(env: Env, { readFile = readSmallFile }: ReadConfigOptions = {}): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const spec of SPECS as readonly Spec<keyof ServerConfig>[]) {
    let name: string = spec.env;
    let raw = env[spec.env];
    for (const alias of spec.aliases ?? []) {
      if (raw !== undefined && raw !== "") break;
      name = alias;
      raw = env[alias];
    }
    if (raw === undefined || raw === "") {
      name = spec.env;
      raw = spec.default;
    }
    out[spec.key] = spec.parse(raw, name);
  }
  let config = out as unknown as ServerConfig & { corsOrigins: readonly string[] };
  if (config.authTokensFile !== undefined) config = { ...config, authTokens: tokensFromFile(config, readFile) };
  if ((env.CHATBOT_CORS_ORIGINS ?? "").trim() === "") {
    const serverCredential = config.defaultApiKeys.length > 0 || config.defaultAccessTokens.length > 0;
    return { ...config, corsOrigins: serverCredential ? [] : ["*"] };
  }
  return config;
}

/** The defaults, as readConfig gives them for an empty environment. */
export const defaultConfig: ServerConfig = readConfig({});

/** The environment reference: one entry per variable with its default, for `--help` and the README. */
export function configReference(): string {
  const lines: string[] = [];
  for (const spec of SPECS) {
    const aliases = "aliases" in spec ? ` (or ${spec.aliases.join(", ")})` : "";
    const def = spec.default === "" ? "unset" : spec.default;
    lines.push(`  ${spec.env}${aliases}  [default: ${def}]`, `      ${spec.description}`);
  }
  for (const pass of PASSTHROUGH) lines.push(`  ${pass.env}  [default: unset]`, `      ${pass.description}`);
  return lines.join("\n");
}

/** The environment reference as a markdown table (the README's copy is checked against it). */
export function configReferenceMarkdown(): string {
  const rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"];
  for (const spec of SPECS) {
    const aliases = "aliases" in spec ? ` (or ${spec.aliases.map((a) => `\`${a}\``).join(", ")})` : "";
    rows.push(
      `| \`${spec.env}\`${aliases} | ${spec.default === "" ? "unset" : `\`${spec.default}\``} | ${spec.description} |`,
    );
  }
  for (const pass of PASSTHROUGH) {
    rows.push(
      `| ${pass.env
        .split(" / ")
        .map((e) => `\`${e}\``)
        .join(" / ")} | unset | ${pass.description} |`,
    );
  }
  return rows.join("\n");
}
