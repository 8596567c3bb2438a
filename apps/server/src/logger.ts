import { EventEmitter } from "node:events";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import pinoPretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.js";

export interface CreateLoggerOptions {
  /** ServerConfig's `logLevel` (LOG_LEVEL; --debug sets debug). */
  readonly level: LogLevel;
  /** Where JSON lines go (default: stdout, through {@link bufferedLogDestination}). */
  readonly destination?: DestinationStream;
  /** The `name` field of every line (default "chatgptchatbot"). */
  readonly name?: string;
  /** JSON lines (default) or human-readable ones through pino-pretty (see {@link chooseLogFormat}). */
  readonly format?: LogFormat;
  /** Pretty lines in colour (default false; on for a terminal). */
  readonly colorize?: boolean;
  /** Told of each line the default destination drops (for `chatbot_log_lines_dropped_total`). */
  readonly onDroppedLine?: () => void;
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
 * carries one), censored at the top level and one level down ({@link censorNested}). A credential
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

const CENSOR = "[redacted]";

/** JSON lines are written once this many bytes are waiting… */
export const LOG_BUFFER_BYTES = 4096;
/** …or this long after the first of them, whichever comes first (and at exit). */
export const LOG_FLUSH_MS = 100;
/**
 * The most that waits while stdout is not read (a stalled log collector):
 * lines beyond it are dropped until it reads again, so a stuck pipe cannot
 * take the server's memory.
 */
export const LOG_MAX_WAITING_BYTES = 16 * 1024 * 1024;

/**
 * Where the program's JSON lines go by default: stdout (or `dest`), written
 * asynchronously in batches of {@link LOG_BUFFER_BYTES}, at most
 * {@link LOG_FLUSH_MS} after the first line of a batch, and synchronously at
 * exit (pino registers the exit flush for an asynchronous destination); at
 * most {@link LOG_MAX_WAITING_BYTES} wait while nobody reads.
 *
 * One `write` per line (pino's default destination) cost ~5 % of a chat's CPU
 * at a load of ~2,000 calls a second (BENCHMARKS.md, issue 16); batched, the
 * `rpc` line of a call costs about what it costs to format it.
 *
 * The flush timer is armed by a line, not left running: sonic-boom's own
 * `periodicFlush` writes (an empty string) every interval even when nothing
 * waits, ten wake-ups a second of an idle server.
 */
export function bufferedLogDestination(dest: number | string = 1): DestinationStream {
  const destination = pino.destination({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    maxLength: LOG_MAX_WAITING_BYTES,
  });
  const write = destination.write.bind(destination);
  let timer: NodeJS.Timeout | undefined;
  // sonic-boom sets `destroyed` (untyped) once ended; flush() would throw then.
  const state = destination as unknown as { destroyed: boolean };
  const flush = (): void => {
    timer = undefined;
    if (!state.destroyed) destination.flush();
  };
  destination.write = (line: string): boolean => {
    const accepted = write(line);
    timer ??= setTimeout(flush, LOG_FLUSH_MS).unref();
    return accepted;
  };
  destination.once("close", () => clearTimeout(timer));
  return destination;
}

/**
 * The guard one level down (`{ request: { api_key } }`): a copy of a line's
 * fields with every {@link REDACTED_LOG_FIELDS} member of an object-valued
 * field censored, or the fields themselves when there is none (the usual
 * case: nothing is copied). Top-level fields are pino's own `redact` paths.
 *
 * Not pino's `*.field` wildcard paths: those run the redaction library on
 * every field of every line, ~6.5 µs a line against ~0.1 µs for this check
 * (BENCHMARKS.md, issue 16), about 4 % of a chat's CPU for the one `rpc` line
 * it logs. Arrays, errors and class instances keep their prototype in the copy.
 */
export function censorNested<T extends object>(fields: T): T {
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value: unknown = fields[key];
    if (typeof value !== "object" || value === null) continue;
    const censored = censorFields(value);
    if (censored !== value) {
      copy ??= { ...(fields as Record<string, unknown>) };
      copy[key] = censored;
    }
  }
  return (copy ?? fields) as T;
}

function censorFields(value: object): object {
  let copy: Record<string, unknown> | undefined;
  for (const field of REDACTED_LOG_FIELDS) {
    if (!Object.hasOwn(value, field)) continue;
    copy ??= Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value)) as Record<
      string,
      unknown
    >;
    Object.defineProperty(copy, field, { value: CENSOR, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}

/**
 * The process logger of the `chatgptchatbot` command, for the pool, the
 * backends and both transports alike: pino, JSON lines or pretty ones. Credentials are logged only through
 * `maskSecret`; as a second guard, {@link REDACTED_LOG_FIELDS} are censored
 * at the top level of a line and of a child logger's bindings (pino's
 * `redact` paths), and one level down in a line's fields ({@link censorNested};
 * the program makes no child loggers).
 */
export function createLogger({
  level,
  destination,
  name = "chatgptchatbot",
  format = "json",
  colorize = false,
  onDroppedLine,
}: CreateLoggerOptions): PinoLogger {
  const options = {
    name,
    level,
    redact: { paths: [...REDACTED_LOG_FIELDS], censor: CENSOR },
    formatters: { log: censorNested },
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
  const target = destination ?? bufferedLogDestination();
  const logger = pino(options, target);
  if (target instanceof EventEmitter) reportDroppedLines(target, logger, onDroppedLine);
  return logger;
}

/** The warning that follows lines dropped while stdout was not read. */
export const DROPPED_LINES_MESSAGE = "log lines were dropped while stdout was not read";

/**
 * Counts the lines a destination drops (sonic-boom's `drop`, past
 * {@link LOG_MAX_WAITING_BYTES}) and says how many in one warning once what
 * waited has been written (`drain`), so a gap in the log is never silent;
 * `onDroppedLine` hears of each at once (a metric, which a stuck stdout cannot hold up).
 */
function reportDroppedLines(destination: EventEmitter, logger: PinoLogger, onDroppedLine?: () => void): void {
  let dropped = 0;
  destination.on("drop", () => {
    dropped++;
    onDroppedLine?.();
  });
  destination.on("drain", () => {
    if (dropped === 0) return;
    const droppedLines = dropped;
    dropped = 0;
    logger.warn({ droppedLines }, DROPPED_LINES_MESSAGE);
  });
}
