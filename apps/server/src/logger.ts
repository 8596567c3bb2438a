import type { LogLevel } from "./config.js";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";

export interface CreateLoggerOptions {
  /** ServerConfig's `logLevel` (LOG_LEVEL; --debug sets debug). */
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). */
  readonly destination?: DestinationStream;
  /** The `name` field of every line (default "chatgptchatbot"). */
  readonly name?: string;
}

/**
 * Fields that would hold a raw credential (or a NewSession `config`, which
 * carries one), censored at the top level and one level down. A credential
 * that is logged on purpose goes through `maskSecret` under a name that is not
 * in this list (`credentialMasked`, as the backends and the HTTP API's default
 * session log it), so operators see which key was used and the mask stays
 * visible.
 */
export const REDACTED_LOG_FIELDS: readonly string[] = ["config", "access_token", "api_key", "api_keys", "credential", "authorization"];

/**
 * The process logger of the `chatgptchatbot` command, for the pool, the
 * backends and both transports alike: pino, JSON lines. Credentials are logged only through
 * `maskSecret`; as a second guard, {@link REDACTED_LOG_FIELDS} are censored
 * wherever they appear.
 */
export function createLogger({ level, destination, name = "chatgptchatbot" }: CreateLoggerOptions): PinoLogger {
  const options = {
    name,
    level,
    redact: {
      paths: REDACTED_LOG_FIELDS.flatMap((field) => [field, `*.${field}`]),
      censor: "[redacted]",
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
