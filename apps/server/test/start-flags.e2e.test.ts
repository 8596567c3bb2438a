/**
 * The V8 flags the command ships with (issue 10, BENCHMARKS.md "Memory under
 * hostile input"): `dist/main.js` run as a command, and the `start` script,
 * start Node with an 8 MB semi-space unless the operator's NODE_OPTIONS say
 * otherwise. Seen from inside the started process: a `--require`d probe
 * prints V8's heap size limit (old generation + young generation, so it
 * moves with the semi-space size), compared with plain `node` given the
 * flag itself.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SERVER = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(SERVER, "dist", "main.js");
const PROBE = join(mkdtempSync(join(tmpdir(), "start-flags-")), "probe.cjs");
writeFileSync(
  PROBE,
  `process.on("exit", () => process.stderr.write("heap_size_limit=" + require("node:v8").getHeapStatistics().heap_size_limit + " malloc_arena_max=" + process.env.MALLOC_ARENA_MAX + " malloc_trim_threshold=" + process.env.MALLOC_TRIM_THRESHOLD_ + "\\n"));\n`,
);

/** V8's heap size limit in a plain `node` started with these flags. */
function limitWith(flags: string[]): number {
  return Number(
    execFileSync(process.execPath, [...flags, "-p", "require('node:v8').getHeapStatistics().heap_size_limit"], {
      encoding: "utf8",
    }),
  );
}

/** Runs `command --help` (the server prints its usage and exits); returns what the probe saw inside. */
function probe(
  command: string,
  args: string[],
  nodeOptions = "",
): { limit: number; mallocArenaMax: string; mallocTrimThreshold: string } {
  const run = spawnSync(command, [...args, "--help"], {
    cwd: SERVER,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", NODE_OPTIONS: `${nodeOptions} --require=${PROBE}`.trim() },
  });
  expect(run.stdout).toContain("CHATBOT_IDLE_GC_AFTER"); // it really was the server's --help
  const match = /heap_size_limit=(\d+) malloc_arena_max=(\S+) malloc_trim_threshold=(\S+)/.exec(run.stderr);
  if (match === null) throw new Error(`no probe output: ${run.stderr}`);
  return { limit: Number(match[1]), mallocArenaMax: match[2]!, mallocTrimThreshold: match[3]! };
}

const limitOf = (command: string, args: string[], nodeOptions = ""): number => probe(command, args, nodeOptions).limit;

describe("the command's V8 flags", () => {
  const defaults = limitWith([]);
  const shipped = limitWith(["--max-semi-space-size=8"]);

  it("run as a command, dist/main.js caps the semi-space at 8 MB (the check tells it from Node's default)", () => {
    expect(shipped).not.toBe(defaults);
    expect(limitOf(MAIN, [])).toBe(shipped);
  });

  it("the start script runs it the same way", () => {
    const start = (JSON.parse(readFileSync(join(SERVER, "package.json"), "utf8")) as { scripts: { start: string } })
      .scripts.start;
    expect(limitOf("sh", ["-c", `${start} "$@"`, "start"])).toBe(shipped);
  });

  it("the operator's NODE_OPTIONS win", () => {
    const semi4 = limitWith(["--max-semi-space-size=4"]);
    expect(semi4).not.toBe(shipped);
    expect(limitOf(MAIN, [], "--max-semi-space-size=4")).toBe(semi4);
    // Other flags of the operator's are kept, and the default still applies.
    expect(limitOf(MAIN, [], "--max-old-space-size=512")).toBe(
      limitWith(["--max-semi-space-size=8", "--max-old-space-size=512"]),
    );
  });

  it("node dist/main.js (no first line) keeps V8's defaults", () => {
    expect(limitOf(process.execPath, [MAIN])).toBe(defaults);
  });

  it("run as a command, glibc keeps one malloc arena (MALLOC_ARENA_MAX=1); node dist/main.js does not set it", () => {
    expect(probe(MAIN, []).mallocArenaMax).toBe("1");
    expect(probe(process.execPath, [MAIN]).mallocArenaMax).toBe("undefined");
  });

  it("run as a command, glibc trims its heap past a fixed 128 KiB (MALLOC_TRIM_THRESHOLD_); node dist/main.js does not set it", () => {
    expect(probe(MAIN, []).mallocTrimThreshold).toBe("131072");
    expect(probe(process.execPath, [MAIN]).mallocTrimThreshold).toBe("undefined");
  });
});
