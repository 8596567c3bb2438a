import type { Logger } from "@chatgptchatbot/core";

/** A logger that keeps every line, to check what was logged (and that no secret was). */
export function recordingLogger(): Logger & { lines: { level: string; obj: object; msg?: string | undefined }[]; text(): string } {
  const lines: { level: string; obj: object; msg?: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () => JSON.stringify(lines, (_key, value: unknown) => (value instanceof Error ? { message: value.message, stack: value.stack } : value)),
  };
}

