/** `node dist/profile-summary.js FILE.cpuprofile [--top N] [--per N]`: self time by package and function. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type CpuProfile, summarizeProfile } from "./cpu-profile.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" }, per: { type: "string" } },
});
const file = positionals[0];
if (file === undefined) {
  process.stderr.write("usage: profile-summary FILE.cpuprofile [--top N] [--per REQUESTS]\n");
  process.exit(2);
}
const { total, functions, packages } = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
const per = values.per === undefined ? undefined : Number(values.per);
const show = (micros: number) => (per === undefined ? `${(micros / 1000).toFixed(1)} ms` : `${(micros / per).toFixed(1)} µs/req`);
const top = Number(values.top);
console.log(`busy (not idle) ${(total / 1000).toFixed(0)} ms${per === undefined ? "" : `, ${(total / per).toFixed(1)} µs per request over ${per} requests`}\n`);
console.log("| Package | Self | Share |\n|---|--:|--:|");
for (const p of packages.slice(0, top)) console.log(`| ${p.name} | ${show(p.micros)} | ${(p.share * 100).toFixed(1)}% |`);
console.log("\n| Function | Self | Share |\n|---|--:|--:|");
for (const f of functions.slice(0, top)) console.log(`| \`${f.name}\` | ${show(f.micros)} | ${(f.share * 100).toFixed(1)}% |`);
