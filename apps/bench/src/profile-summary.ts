/**
 * `node dist/profile-summary.js FILE.cpuprofile [--top N] [--per REQUESTS] [--window FROM,TO]`:
 * self time by package and function (or, with `--callers NAME [--depth N]`, who
 * calls NAME); `--window` (µs, monotonic: a run's
 * `windowMonotonicMicros` in the results JSON) keeps only the measured window.
 */
import { readFileSync } from "node:fs";
import { parseCli } from "./cli-args.js";
import { type CpuProfile, callersOf, summarizeProfile } from "./cpu-profile.js";

const { values, positionals } = parseCli(
  "node dist/profile-summary.js FILE.cpuprofile [options]: self time by package and function, or who calls --callers NAME",
  {
    allowPositionals: true,
    options: {
      top: { type: "string", default: "30" },
      per: { type: "string" },
      window: { type: "string" },
      callers: { type: "string" },
      depth: { type: "string", default: "4" },
    },
  },
);
const file = positionals[0];
if (file === undefined) {
  process.stderr.write("usage: profile-summary FILE.cpuprofile [--top N] [--per REQUESTS]\n");
  process.exit(2);
}
const window = values.window?.split(",").map(Number) as [number, number] | undefined;
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const { total, functions, packages } = summarizeProfile(profile, { ...(window === undefined ? {} : { window }) });
const per = values.per === undefined ? undefined : Number(values.per);
const show = (micros: number) =>
  per === undefined ? `${(micros / 1000).toFixed(1)} ms` : `${(micros / per).toFixed(1)} µs/req`;
const top = Number(values.top);
if (values.callers !== undefined) {
  console.log(`| Callers of ${values.callers} (nearest first) | Self | Share |\n|---|--:|--:|`);
  const chains = callersOf(profile, values.callers, {
    depth: Number(values.depth),
    ...(window === undefined ? {} : { window }),
  });
  for (const c of chains.slice(0, top))
    console.log(`| ${c.name} | ${show(c.micros)} | ${(c.share * 100).toFixed(1)}% |`);
  process.exit(0);
}
console.log(
  `busy (not idle) ${(total / 1000).toFixed(0)} ms${per === undefined ? "" : `, ${(total / per).toFixed(1)} µs per request over ${per} requests`}\n`,
);
console.log("| Package | Self | Share |\n|---|--:|--:|");
for (const p of packages.slice(0, top))
  console.log(`| ${p.name} | ${show(p.micros)} | ${(p.share * 100).toFixed(1)}% |`);
console.log("\n| Function | Self | Share |\n|---|--:|--:|");
for (const f of functions.slice(0, top))
  console.log(`| \`${f.name}\` | ${show(f.micros)} | ${(f.share * 100).toFixed(1)}% |`);
