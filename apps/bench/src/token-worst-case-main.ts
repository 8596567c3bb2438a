/**
 * `node dist/token-worst-case-main.js [--repetitions N]`: prints the slowest
 * token count per hostile input at each size limit, as a markdown table (see
 * BENCHMARKS.md, "Token counting under hostile input").
 */

import { parseCli } from "./cli-args.js";
import { measureTokenWorstCase, SIZES } from "./token-worst-case.js";

const { values } = parseCli(
  "node dist/token-worst-case-main.js [options]: the slowest token count per hostile input at each size limit",
  { options: { repetitions: { type: "string", default: "5" } } },
);
const rows = await measureTokenWorstCase({ repetitions: Number(values.repetitions) });
console.log(
  "| Input | Characters | Encoding | CPU ms, median | CPU ms, slowest | Wall ms, median | Wall ms, slowest |",
);
console.log("|---|--:|---|--:|--:|--:|--:|");
for (const row of rows) {
  const figures = [row.medianCpuMs, row.maxCpuMs, row.medianMs, row.maxMs].map((n) => n.toFixed(1)).join(" | ");
  console.log(`| ${row.input} | ${row.chars.toLocaleString("en")} | ${row.encoding} | ${figures} |`);
}
for (const { what, chars } of SIZES) {
  const at = rows.filter((r) => r.chars === chars);
  const cpu = Math.max(...at.map((r) => r.medianCpuMs));
  const wall = Math.max(...at.map((r) => r.maxMs));
  const size = `${what}, ${chars.toLocaleString("en")} characters`;
  console.log(`\n${size}: worst median CPU ${cpu.toFixed(1)} ms; slowest wall ${wall.toFixed(1)} ms`);
}
