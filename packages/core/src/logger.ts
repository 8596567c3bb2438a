/**
 * The logging surface core writes to: pino-compatible (`logger.warn(obj, msg)`),
 * so an app hands its pino logger in. Core never logs a credential.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A session id shortened for log lines. */
export function shortId(sessionId: string): string {
  return sessionId.slice(0, 8);
}
