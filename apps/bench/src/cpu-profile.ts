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
  const file = url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "").replace(/^.*\/(apps|packages)\//, "");
  return `${fn} ${file}:${lineNumber + 1}`;
}

/** Self time per function and per package, largest first; (idle) is left out of the shares. */
export function summarizeProfile(profile: CpuProfile): { total: number; functions: SelfTime[]; packages: SelfTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
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
    const pkg = node.callFrame.url === "" ? node.callFrame.functionName.startsWith("(") ? node.callFrame.functionName : "(native / V8)" : packageOf(node.callFrame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  const sorted = (m: Map<string, number>): SelfTime[] =>
    [...m].map(([name, micros]) => ({ name, micros, share: total === 0 ? 0 : micros / total })).sort((a, b) => b.micros - a.micros);
  return { total, functions: sorted(functions), packages: sorted(packages) };
}
