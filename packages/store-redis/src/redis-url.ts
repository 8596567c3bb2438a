/** Where the Redis server is and how to log in, read from `CHATBOT_STORE`. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** ACL user (Redis 6+); undefined: the default user. */
  readonly username: string | undefined;
  /** undefined: no AUTH. Never log it: {@link describeRedisEndpoint} masks it. */
  readonly password: string | undefined;
  /** Logical database number. */
  readonly db: number;
  /** `rediss://`: TLS. */
  readonly tls: boolean;
}

const DEFAULT_PORT = 6379;
/** Redis's default `databases` setting is 16; a server may be configured with more, so accept what Redis can index. */
const MAX_DB = 1_000_000;
/** A URL longer than this is a mistake, not a Redis address. */
const MAX_URL_LENGTH = 4096;

/** A `CHATBOT_STORE` value that is not a usable Redis URL. The message never contains the password. */
export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS),
 * the form `CHATBOT_STORE` takes, so `redis://:secret@host:6379/0` works.
 * User and password may be percent-encoded. No query options: every setting
 * the store needs has its own variable, so a typo cannot hide in a query.
 *
 * @throws RedisUrlError saying what is wrong, without the password.
 */
export function parseRedisUrl(text: string): RedisEndpoint {
  if (text.length > MAX_URL_LENGTH) throw new RedisUrlError(`a Redis URL is at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisUrlError("not a URL: expected redis://[[user]:password@]host:port[/db] or rediss://…");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new RedisUrlError(`unsupported scheme ${JSON.stringify(url.protocol)}: expected redis:// or rediss://`);
  }
  if (url.hostname === "") throw new RedisUrlError("the Redis URL has no host");
  if (url.search !== "" || url.hash !== "") throw new RedisUrlError("the Redis URL takes no query or fragment");
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,7}$/.test(path))
    throw new RedisUrlError(`the database must be a number, as in redis://host:6379/0`);
  const db = path === "" ? 0 : Number(path);
  if (db > MAX_DB) throw new RedisUrlError(`the database number ${db} is too large`);
  return {
    // WHATWG URL keeps IPv6 literals bracketed; net.connect wants them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    username: decoded(url.username, "user"),
    password: decoded(url.password, "password"),
    db,
    tls: url.protocol === "rediss:",
  };
}

/** The endpoint as a log line may show it: the password masked, the user kept. */
export function describeRedisEndpoint(endpoint: RedisEndpoint): string {
  const scheme = endpoint.tls ? "rediss" : "redis";
  const user = endpoint.username ?? "";
  const login = endpoint.password === undefined ? (user === "" ? "" : `${user}@`) : `${user}:***@`;
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${login}${host}:${endpoint.port}/${endpoint.db}`;
}

function decoded(part: string, what: string): string | undefined {
  if (part === "") return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`the ${what} in the Redis URL is not valid percent-encoding`);
  }
}
