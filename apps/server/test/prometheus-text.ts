/**
 * Reading the Prometheus text format in tests: a sample's value by metric
 * name and labels, and `promtool check metrics` (Debian's `prometheus`
 * package) as the judge of the format.
 */
import { spawnSync } from "node:child_process";

/** The value of the sample `name` whose labels include `labels` (all of them, exactly), summed over the rest; 0 when none. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      have.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) sum += Number(match[3]);
  }
  return sum;
}

/** Whether a metric family of that name is in the exposition at all. */
export function hasMetric(text: string, name: string): boolean {
  return text.split("\n").some((line) => line.startsWith(`# TYPE ${name} `));
}

/** Runs `promtool check <what>` with `input` on stdin (or a file argument); its exit status and output. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", args, { input, encoding: "utf8", timeout: 30_000 });
  if (result.error !== undefined)
    throw new Error(`promtool could not run (apt-get install prometheus): ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
