/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per
 * function and per package, so a profile can be read in a terminal and quoted
 * in BENCHMARKS.md.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  /** Self time in µs. */
  readonly micros: number;
  /** Share of all sampled time except (idle). */
  readonly share: number;
}

/** The package (or "node:" internal, or V8 pseudo-frame) a frame's URL belongs to. */
export function packageOf(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:")) return "node: internals";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const pkg = /\/(apps|packages)\/([^/]+)\//.exec(url);
  if (pkg) return `@chatgptchatbot/${pkg[2]}`;
  return url;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const fn = functionName === "" ? "(anonymous)" : functionName;
  if (url === "") return fn;
  const file = url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/(apps|packages)\//, "");
  return `${fn} ${file}:${lineNumber + 1}`;
}

/**
 * Self time per function and per package, largest first; (idle) is left out
 * of the shares. With `window` ([from, to] in the profile's clock, µs), only
 * samples taken inside it count.
 */
export function summarizeProfile(
  profile: CpuProfile,
  { window }: { window?: readonly [number, number] } = {},
): { total: number; functions: SelfTime[]; packages: SelfTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    if (window !== undefined && (at < window[0] || at > window[1])) continue;
    // A sample's time is the delta to the next sample.
    const micros = deltas[i + 1] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + micros);
  }
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === "(idle)") continue;
    total += micros;
    const name = frameName(node);
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const pkg =
      node.callFrame.url === ""
        ? node.callFrame.functionName.startsWith("(")
          ? node.callFrame.functionName
          : "(native / V8)"
        : packageOf(node.callFrame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  const sorted = (m: Map<string, number>): SelfTime[] =>
    [...m]
      .map(([name, micros]) => ({ name, micros, share: total === 0 ? 0 : micros / total }))
      .sort((a, b) => b.micros - a.micros);
  return { total, functions: sorted(functions), packages: sorted(packages) };
}

/**
 * Who calls a function: self time of the frames whose name starts with
 * `name`, grouped by their callers' chain (`depth` frames up, nearest first).
 */
export function callersOf(
  profile: CpuProfile,
  name: string,
  { depth = 4, window }: { depth?: number; window?: readonly [number, number] } = {},
): SelfTime[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    if (window !== undefined && (at < window[0] || at > window[1])) continue;
    const micros = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i]!);
    if (node !== undefined && node.callFrame.functionName !== "(idle)") total += micros;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + micros);
  }
  const chains = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (node === undefined || !frameName(node).startsWith(name)) continue;
    const chain: string[] = [];
    for (let up = parent.get(id); up !== undefined && chain.length < depth; up = parent.get(up)) {
      const frame = byId.get(up);
      if (frame !== undefined) chain.push(frameName(frame));
    }
    const key = chain.join(" < ");
    chains.set(key, (chains.get(key) ?? 0) + micros);
  }
  return [...chains]
    .map(([chain, micros]) => ({ name: chain, micros, share: total === 0 ? 0 : micros / total }))
    .sort((a, b) => b.micros - a.micros);
}
