import { describe, expect, it } from "vitest";
import { helpText, parseCli } from "./cli-args.js";

const options = {
  rounds: { type: "string", default: "3" },
  out: { type: "string" },
  quick: { type: "boolean", default: false },
} as const;

/** Runs parseCli with exit and printing captured; `exit` throws, as the real one never returns. */
function run(args: string[]): { values?: unknown; code?: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const { values } = parseCli(
      "node dist/x.js [options]: what it does",
      { args, options },
      {
        exit: (code?: number) => {
          throw Object.assign(new Error("exit"), { exitCode: code });
        },
        print: (text: string) => out.push(text),
        printError: (text: string) => err.push(text),
      },
    );
    return { values: { ...values }, out, err };
  } catch (error) {
    return { code: (error as { exitCode: number }).exitCode, out, err };
  }
}

describe("parseCli", () => {
  it("parses what parseArgs parses", () => {
    expect(run(["--rounds", "5", "--quick"]).values).toEqual({ rounds: "5", quick: true });
  });

  it("--help and -h print the usage and every option with its default, exit 0", () => {
    for (const flag of ["--help", "-h"]) {
      const result = run(["--rounds", "5", flag]);
      expect(result.code).toBe(0);
      expect(result.out).toEqual([
        [
          "node dist/x.js [options]: what it does",
          "",
          "Options:",
          "  --rounds <value>  (default: 3)",
          "  --out <value>",
          "  --quick  (default: false)",
          "  --help, -h",
        ].join("\n"),
      ]);
    }
  });

  it("an unknown option or a missing value: the reason and a pointer to --help on stderr, exit 2, no stack", () => {
    const unknown = run(["--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toEqual([
      expect.stringMatching(/^Unknown option '--bogus'[\s\S]*\(--help lists the options\)$/),
    ]);
    expect(unknown.err[0]).not.toMatch(/\n\s+at /);
    const missing = run(["--rounds"]);
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/--rounds/);
  });

  it("helpText leaves out empty defaults", () => {
    expect(helpText("u", { options: { env: { type: "string", default: "" } } })).toBe(
      "u\n\nOptions:\n  --env <value>\n  --help, -h",
    );
  });
});
