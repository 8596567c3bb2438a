/** Child process: the fast fake upstream (see fast-upstream.ts). `--reply-events N` sets events per stream. */
import { parseArgs } from "node:util";
import { onParentMessage, sendToParent } from "./child-process.js";
import { startFastUpstream } from "./fast-upstream.js";

const { values } = parseArgs({ options: { "stream-events": { type: "string", default: "16" } } });
const upstream = await startFastUpstream({ streamEvents: Number(values["stream-events"]) });
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
