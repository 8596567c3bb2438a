/** Child process: the bare Node hop (see node-hop.ts). `--upstream <origin>`. */
import { parseArgs } from "node:util";
import { onParentMessage, sendToParent } from "./child-process.js";
import { startNodeHop } from "./node-hop.js";

const { values } = parseArgs({ options: { upstream: { type: "string" } } });
if (values.upstream === undefined) throw new Error("--upstream <origin> is required");
const hop = await startNodeHop({ upstream: values.upstream });
onParentMessage(
  () => {},
  () => hop.close(),
);
sendToParent({ type: "ready", origin: hop.origin });
