/**
 * Child process: the load generator for one run (a target at one
 * concurrency). It runs apart from the server, so the server's CPU counters
 * hold only the server's own work. It reads the watched processes' counters
 * at the edges of the measured window itself, so nothing else lies between.
 */

import { onParentMessage, sendToParent } from "./child-process.js";
import { runClosedLoop } from "./closed-loop.js";
import type { LoadJob, LoadResult } from "./load-job.js";
import { readCpuMicros, readMachineBusyMicros, readRssBytes } from "./proc-stat.js";
import { openTarget } from "./targets.js";

async function run(job: LoadJob): Promise<LoadResult> {
  const target = await openTarget(job.target, { concurrency: job.concurrency });
  const start: Record<string, number> = {};
  const cpuMicros: Record<string, number> = {};
  const rssBytes: Record<string, number> = {};
  let selfStart = process.cpuUsage();
  let self = 0;
  let machineStart = 0;
  let machine = 0;
  const monotonic: [number, number] = [0, 0];
  try {
    const result = await runClosedLoop({
      concurrency: job.concurrency,
      warmupMs: job.warmupMs,
      durationMs: job.durationMs,
      call: target.call,
      onWindow(edge) {
        for (const [name, pid] of Object.entries(job.watch)) {
          const now = readCpuMicros(pid);
          if (edge === "start") start[name] = now;
          else {
            cpuMicros[name] = now - (start[name] ?? now);
            rssBytes[name] = readRssBytes(pid);
          }
        }
        const now = Number(process.hrtime.bigint() / 1000n);
        if (edge === "start") monotonic[0] = now;
        else monotonic[1] = now;
        if (edge === "start") {
          selfStart = process.cpuUsage();
          machineStart = readMachineBusyMicros();
        } else {
          const used = process.cpuUsage(selfStart);
          self = used.user + used.system;
          machine = readMachineBusyMicros() - machineStart;
        }
      },
    });
    return {
      ...result,
      cpuMicros,
      rssBytes,
      loadGeneratorCpuMicros: self,
      machineBusyMicros: machine,
      windowMonotonicMicros: monotonic,
    };
  } finally {
    await target.close();
  }
}

onParentMessage(async (message) => {
  if (message.type !== "run") return;
  const result = await run(message.job as LoadJob);
  sendToParent({ type: "result", result });
});
sendToParent({ type: "ready" });
