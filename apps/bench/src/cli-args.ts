import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * `parseArgs` for the bench's commands, as a command line should answer:
 * `--help` (or `-h`) prints `usage` and every option with its default, exit 0;
 * an unknown option or a missing value prints the reason and a pointer to
 * `--help` on stderr, exit 2 (not a stack trace).
 */
export function parseCli<T extends ParseArgsConfig>(
  usage: string,
  config: T,
  { exit = process.exit, print = console.log, printError = console.error } = {},
): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    print(helpText(usage, config));
    return exit(0) as never;
  }
  try {
    return parseArgs(config);
  } catch (error) {
    if (!(error instanceof TypeError && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_")))
      throw error;
    printError(`${error.message}\n(--help lists the options)`);
    return exit(2) as never;
  }
}

/** `usage`, then one line per option: `--name <value>` (or the bare flag), and its default. */
export function helpText(usage: string, { options = {} }: ParseArgsConfig): string {
  const lines = Object.entries(options).map(([name, option]) => {
    const flag = option.type === "boolean" ? `--${name}` : `--${name} <value>`;
    const fallback = option.default === undefined || option.default === "" ? "" : `  (default: ${option.default})`;
    return `  ${flag}${fallback}`;
  });
  return [usage, "", "Options:", ...lines, "  --help, -h"].join("\n");
}
