import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import pinoPretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.js";

export interface CreateLoggerOptions {
  /** ServerConfig's `logLevel` (LOG_LEVEL; --debug sets debug). */
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). */
  readonly destination?: DestinationStream;
  /** The `name` field of every line (default "chatgptchatbot"). */
  readonly name?: string;
  /** JSON lines (default) or human-readable ones through pino-pretty (see {@link chooseLogFormat}). */
  readonly format?: LogFormat;
  /** Pretty lines in colour (default false; on for a terminal). */
  readonly colorize?: boolean;
}

/**
 * The log format: LOG_FORMAT when set; otherwise human-readable lines for a
 * person at a terminal, JSON lines for everything else (a pipe, a file, a
 * container's log driver), which log collectors parse.
 */
export function chooseLogFormat({
  configured,
  isTerminal,
}: {
  configured: LogFormat | undefined;
  isTerminal: boolean;
}): LogFormat {
  return configured ?? (isTerminal ? "pretty" : "json");
}

/**
 * Fields that would hold a raw credential (or a NewSession `config`, which
 * carries one), censored at the top level and one level down. A credential
 * that is logged on purpose goes through `maskSecret` under a name that is not
 * in this list (`credentialMasked`, as the backends and the HTTP API's default
 * session log it), so operators see which key was used and the mask stays
 * visible.
 */
export const REDACTED_LOG_FIELDS: readonly string[] = [
  "config",
  "access_token",
  "api_key",
  "api_keys",
  "credential",
  "authorization",
];

/**
 * The process logger of the `chatgptchatbot` command, for the pool, the
 * backends and both transports alike: pino, JSON lines or pretty ones. Credentials are logged only through
 * `maskSecret`; as a second guard, {@link REDACTED_LOG_FIELDS} are censored
 * wherever they appear.
 */
export function createLogger({
  level,
  destination,
  name = "chatgptchatbot",
  format = "json",
  colorize = false,
}: CreateLoggerOptions): PinoLogger {
  const options = {
    name,
    level,
    redact: {
      paths: REDACTED_LOG_FIELDS.flatMap((field) => [field, `*.${field}`]),
      censor: "[redacted]",
    },
  };
  if (format === "pretty") {
    // Redaction happens in pino, before pino-pretty sees a line. Synchronous, so no line is lost at exit.
    const pretty = pinoPretty({
      destination: destination ?? 1,
      sync: true,
      colorize,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
    return pino(options, pretty);
  }
  return destination === undefined ? pino(options) : pino(options, destination);
}
