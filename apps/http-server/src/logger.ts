import type { LogLevel } from "@chatgptchatbot/core";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";

export interface CreateLoggerOptions {
  /** ServerConfig's `logLevel` (LOG_LEVEL; --debug sets debug). */
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). */
  readonly destination?: DestinationStream;
  /** The `name` field of every line (default "http"). */
  readonly name?: string;
}

/**
 * The HTTP server's pino logger: JSON lines. Credentials are logged only
 * through `maskSecret`; as a second guard, fields that would hold one raw are
 * censored wherever they appear.
 */
export function createLogger({ level, destination, name = "http" }: CreateLoggerOptions): PinoLogger {
  const options = {
    name,
    level,
    redact: {
      paths: ["access_token", "api_key", "api_keys", "authorization", "*.access_token", "*.api_key", "*.api_keys", "*.authorization"],
      censor: "[redacted]",
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
