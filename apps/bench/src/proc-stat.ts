/**
 * A process's CPU time and memory from Linux's /proc, read from outside the
 * process: the figure the harness divides by the requests served. User plus
 * system time in clock ticks (`getconf CLK_TCK`, usually 100 per second).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface CpuTicks {
  /** Time in user mode, in clock ticks. */
  readonly utime: number;
  /** Time in kernel mode, in clock ticks. */
  readonly stime: number;
}

/**
 * Parses the contents of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are
 * counted from the last ")".
 */
export function parseProcStat(text: string): CpuTicks {
  const close = text.lastIndexOf(")");
  if (close === -1) throw new Error("not a /proc/<pid>/stat line: no command name");
  // Fields from 3 (state) on; utime and stime are fields 14 and 15.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error("not a /proc/<pid>/stat line: utime/stime are not whole numbers");
  }
  return { utime, stime };
}

/** Parses VmRSS (in kB) of /proc/<pid>/status into bytes. */
export function parseRssBytes(statusText: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  if (match === null) throw new Error("no VmRSS line in /proc/<pid>/status");
  return Number(match[1]) * 1024;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 if it cannot be asked). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of a process so far, in microseconds. */
export function readCpuMicros(pid: number): number {
  const { utime, stime } = parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  return ((utime + stime) * 1_000_000) / clockTicksPerSecond();
}

/** Resident set size of a process, in bytes. */
export function readRssBytes(pid: number): number {
  return parseRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
}

/**
 * Parses the first line of /proc/stat: CPU time of the whole machine, in
 * clock ticks, busy (everything but idle and iowait) and in all.
 */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== "cpu") throw new Error("not /proc/stat: no cpu line first");
  const ticks = fields.slice(1, 9).map(Number);
  if (ticks.length < 5 || ticks.some((t) => !Number.isFinite(t))) throw new Error("not /proc/stat: bad cpu line");
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy CPU time of the whole machine so far (all cores), in microseconds. */
export function readMachineBusyMicros(): number {
  return (parseMachineStat(readFileSync("/proc/stat", "utf8")).busy * 1_000_000) / clockTicksPerSecond();
}
