import type { LogLevel } from "@chatgptchatbot/core";
import { createLogger as createSharedLogger } from "@chatgptchatbot/http-server";
import type { DestinationStream, Logger as PinoLogger } from "pino";

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout). */
  readonly destination?: DestinationStream;
}

/**
 * The process logger of `chatgptchatbot`: the HTTP API's logger configuration
 * (one redaction list for both transports, so a credential the HTTP API logs
 * masked stays readable as masked, and raw credential fields are censored),
 * named "chatgptchatbot".
 */
export function createLogger({ level, destination }: CreateLoggerOptions): PinoLogger {
  return createSharedLogger({ level, name: "chatgptchatbot", ...(destination === undefined ? {} : { destination }) });
}
