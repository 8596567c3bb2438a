import type { LogLevel } from "@chatgptchatbot/core";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). */
  readonly destination?: DestinationStream;
}

/**
 * The process logger: pino JSON lines. Credentials never reach it on purpose;
 * the redaction below is a second line of defence for fields that could hold
 * one.
 */
export function createLogger({ level, destination }: CreateLoggerOptions): PinoLogger {
  const options = {
    level,
    base: { service: "chatgptchatbot" },
    redact: {
      paths: [
        "config",
        "api_key",
        "access_token",
        "credential",
        "authorization",
        "*.config",
        "*.api_key",
        "*.access_token",
        "*.credential",
        "*.authorization",
      ],
      censor: "[redacted]",
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
