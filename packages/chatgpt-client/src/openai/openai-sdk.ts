/**
 * The `openai` SDK, loaded on first use: a server that never serves an
 * API-key session does not carry it (about 10 MB of RSS at idle, see
 * BENCHMARKS.md). Loaded once per process; later calls get the same module.
 */
export type OpenAISdk = typeof import("openai");

let loading: Promise<OpenAISdk> | undefined;

export function loadOpenAISdk(): Promise<OpenAISdk> {
  if (loading === undefined) {
    loading = import("openai");
    loading.catch(() => (loading = undefined));
  }
  return loading;
}
