import { ConfigError } from "@chatgptchatbot/core";
import { parseRedisUrl, type RedisEndpoint, RedisUrlError } from "@chatgptchatbot/store-redis";

/**
 * Where the program keeps its sessions, as CHATBOT_STORE names it:
 * `memory` (lost on restart), `sqlite:PATH` (a file), `redis://…` (shared by
 * replicas), or unset: SQLite at the default path (resolved at start, from
 * XDG_STATE_HOME or the home folder).
 */
export type StoreChoice =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly file: string | undefined }
  | { readonly kind: "redis"; readonly endpoint: RedisEndpoint };

/** The default: SQLite at `defaultStorePath()`. */
export const DEFAULT_STORE_CHOICE: StoreChoice = { kind: "sqlite", file: undefined };

/**
 * Parses CHATBOT_STORE. A Redis URL may hold a password, so no error repeats
 * the value after the scheme.
 *
 * @throws ConfigError naming the variable.
 */
export function parseStoreChoice(value: string, name: string): StoreChoice {
  const v = value.trim();
  if (v === "") return DEFAULT_STORE_CHOICE;
  if (v === "memory") return { kind: "memory" };
  if (v.startsWith("sqlite:")) {
    const file = v.slice("sqlite:".length).trim();
    if (file === "") throw new ConfigError(name, "expected sqlite:PATH with a file path after the colon");
    return { kind: "sqlite", file };
  }
  if (/^rediss?:\/\//i.test(v)) {
    try {
      return { kind: "redis", endpoint: parseRedisUrl(v) };
    } catch (error) {
      // RedisUrlError's message never holds the password.
      if (error instanceof RedisUrlError) throw new ConfigError(name, error.message);
      throw error;
    }
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(v)?.[0];
  throw new ConfigError(
    name,
    `expected memory, sqlite:PATH or redis://…, got ${scheme === undefined ? JSON.stringify(v.slice(0, 40)) : `a ${scheme} value`}`,
  );
}
