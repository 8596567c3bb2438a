import type { Logger } from "@chatgptchatbot/core";

export interface LoggedLine {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

export interface RecordingLogger extends Logger {
  readonly lines: LoggedLine[];
  /** Every line as JSON (errors with message and stack), to search for what must never be logged. */
  text(): string;
}

/** A logger that keeps every line, to check what was logged (and that no secret was). */
export function recordingLogger(): RecordingLogger {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () =>
      JSON.stringify(lines, (_key, value: unknown) =>
        value instanceof Error ? { message: value.message, stack: value.stack } : value,
      ),
  };
}
