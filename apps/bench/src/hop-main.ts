/** Child process: the bare Node hop (see node-hop.ts). `--upstream <origin>`. */
import { onParentMessage, sendToParent } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import { startNodeHop } from "./node-hop.js";

const { values } = parseCli("node dist/hop-main.js --upstream ORIGIN: a child of pnpm bench, the bare Node hop", {
  options: { upstream: { type: "string" } },
});
if (values.upstream === undefined) throw new Error("--upstream <origin> is required");
const hop = await startNodeHop({ upstream: values.upstream });
onParentMessage(
  () => {},
  () => hop.close(),
);
sendToParent({ type: "ready", origin: hop.origin });
