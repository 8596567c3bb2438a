import { describe, expect, it } from "vitest";
import {
  clockTicksPerSecond,
  parseMachineStat,
  parseProcStat,
  parseRssBytes,
  readCpuMicros,
  readMachineBusyMicros,
  readRssBytes,
} from "./proc-stat.js";

// A real line, its command name made awkward on purpose (spaces and a ")").
const line =
  "4242 (node (a) b) S 1 4242 4242 0 -1 4194560 3861 0 0 0 157 23 0 0 20 0 11 0 1234567 1129799680 12345 18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

describe("parseProcStat", () => {
  it("reads utime and stime counting from the last parenthesis", () => {
    expect(parseProcStat(line)).toEqual({ utime: 157, stime: 23 });
  });

  it("rejects what is not a stat line", () => {
    expect(() => parseProcStat("hello")).toThrow(/no command name/);
    expect(() => parseProcStat("1 (x) S 1")).toThrow(/whole numbers/);
  });
});

describe("parseRssBytes", () => {
  it("turns VmRSS kB into bytes", () => {
    expect(parseRssBytes("Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51200 kB\nThreads:\t11\n")).toBe(51200 * 1024);
  });

  it("fails without a VmRSS line", () => {
    expect(() => parseRssBytes("Name:\tnode\n")).toThrow(/VmRSS/);
  });
});

describe("reading this process", () => {
  it("gives a CPU time that grows with work and a plausible RSS", () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
    const before = readCpuMicros(process.pid);
    let x = 0;
    const until = process.cpuUsage();
    // Burn at least 50 ms of CPU, measured by the process itself.
    while (process.cpuUsage(until).user < 50_000) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(readCpuMicros(process.pid)).toBeGreaterThan(before);
    expect(readRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});

describe("parseMachineStat", () => {
  it("counts busy time as everything but idle and iowait", () => {
    const text = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
    expect(parseMachineStat(text)).toEqual({ busy: 100 + 5 + 50 + 3 + 2, total: 1180 });
  });

  it("rejects what is not /proc/stat", () => {
    expect(() => parseMachineStat("intr 1 2 3\n")).toThrow(/no cpu line/);
  });

  it("reads this machine", () => {
    expect(readMachineBusyMicros()).toBeGreaterThan(0);
  });
});
