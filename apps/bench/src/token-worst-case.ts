/**
 * The worst case of token counting at the largest accepted inputs (issue 10:
 * no single request may block the event loop for more than ~50 ms). Counting
 * is synchronous, so one count's wall time is how long it blocks the loop.
 * Inputs are random (the encoder caches merged pieces, so repeated text would
 * flatter it), one fresh string per repetition; the figure is the slowest.
 */
import {
  DEFAULT_MAX_INITIAL_PROMPT_CHARS,
  DEFAULT_MAX_PROMPT_CHARS,
  EXACT_COUNT_CHARS,
  loadTokenCounter,
  type TokenCounter,
} from "@chatgptchatbot/core";

export interface WorstCaseRow {
  readonly input: string;
  readonly chars: number;
  readonly encoding: string;
  /** Slowest single count, in ms of wall time (what the event loop waits; inflated on a loaded machine). */
  readonly maxMs: number;
  readonly medianMs: number;
  /** The same counts in ms of the process's CPU time (what they cost on an idle core). */
  readonly maxCpuMs: number;
  readonly medianCpuMs: number;
}

type Generator = (length: number) => string;

const between = (from: number, to: number) => (): string =>
  String.fromCodePoint(from + Math.floor(Math.random() * (to - from)));
function repeatChar(pick: () => string): Generator {
  return (length) => {
    let text = "";
    while (text.length < length) text += pick();
    return text.slice(0, length);
  };
}

/** The inputs found slowest per character, plus the issue's own cases. */
export const HOSTILE_INPUTS: Readonly<Record<string, Generator>> = {
  "random CJK, no spaces": repeatChar(between(0x4e00, 0x9fff)),
  "random BMP letters and symbols": repeatChar(() => {
    let code: number;
    do code = 0x100 + Math.floor(Math.random() * (0xffff - 0x100));
    while (code >= 0xd800 && code <= 0xdfff);
    return String.fromCharCode(code);
  }),
  "random lowercase, no spaces": repeatChar(between(0x61, 0x7b)),
  "random base64": repeatChar(
    () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[Math.floor(Math.random() * 64)]!,
  ),
  "x repeated": (length) => "x".repeat(length),
  "<|endoftext|> repeated": (length) => "<|endoftext|>".repeat(Math.ceil(length / 13)).slice(0, length),
};

export const SIZES = [
  { what: "prompt (CHATBOT_MAX_PROMPT_CHARS)", chars: DEFAULT_MAX_PROMPT_CHARS },
  {
    what: "initial prompt (CHATBOT_MAX_INITIAL_PROMPT_CHARS) = EXACT_COUNT_CHARS",
    chars: Math.max(DEFAULT_MAX_INITIAL_PROMPT_CHARS, EXACT_COUNT_CHARS),
  },
  { what: "an oversized 1 MB reply", chars: 1_000_000 },
] as const;

function time(count: TokenCounter, text: string): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  count(text);
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

export async function measureTokenWorstCase({
  repetitions = 5,
}: {
  repetitions?: number;
} = {}): Promise<WorstCaseRow[]> {
  const rows: WorstCaseRow[] = [];
  for (const model of [undefined, "gpt-4"] as const) {
    const count = await loadTokenCounter(model);
    // Warm the encoder and the JIT on hostile text too, so the first row is not the JIT's.
    for (const generate of Object.values(HOSTILE_INPUTS)) count(generate(20_000));
    for (const { chars } of SIZES) {
      for (const [input, generate] of Object.entries(HOSTILE_INPUTS)) {
        const walls: number[] = [];
        const cpus: number[] = [];
        for (let i = 0; i < repetitions; i++) {
          const { wall, cpu } = time(count, generate(chars));
          walls.push(wall);
          cpus.push(cpu);
        }
        walls.sort((a, b) => a - b);
        cpus.sort((a, b) => a - b);
        const middle = Math.floor(repetitions / 2);
        rows.push({
          input,
          chars,
          encoding: model === undefined ? "o200k_base" : "cl100k_base",
          maxMs: walls.at(-1)!,
          medianMs: walls[middle]!,
          maxCpuMs: cpus.at(-1)!,
          medianCpuMs: cpus[middle]!,
        });
      }
    }
  }
  return rows;
}
