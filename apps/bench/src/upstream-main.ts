/**
 * Child process: the fast fake upstream (see fast-upstream.ts). `--stream-events N` sets events per stream;
 * `--workload` replies with issue 16's ~200-byte WORKLOAD_REPLY (cut by the `/pieces-…` path prefixes).
 */
import { onParentMessage, sendToParent } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import { startFastUpstream, WORKLOAD_REPLY } from "./fast-upstream.js";

const { values } = parseCli("node dist/upstream-main.js [options]: a child of the harness, the fast fake upstream", {
  options: { "stream-events": { type: "string", default: "16" }, workload: { type: "boolean", default: false } },
});
const upstream = await startFastUpstream({
  streamEvents: Number(values["stream-events"]),
  ...(values.workload ? { reply: WORKLOAD_REPLY } : {}),
});
onParentMessage(
  (message) => {
    if (message.type === "last-body") {
      sendToParent({ type: "last-body", body: upstream.lastChatBody?.toString("utf8") ?? null });
    } else if (message.type === "served") {
      sendToParent({ type: "served", served: upstream.served });
    }
  },
  () => upstream.close(),
);
sendToParent({ type: "ready", origin: upstream.origin });
