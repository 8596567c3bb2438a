/** Child process: `--upstream ORIGIN [--quick]`, reports ComponentResult[] (see components.ts). */
import { parseArgs } from "node:util";
import { measureComponents } from "./components.js";

const { values } = parseArgs({ options: { upstream: { type: "string" }, quick: { type: "boolean", default: false } } });
if (values.upstream === undefined) throw new Error("--upstream <origin> is required");
const results = await measureComponents({ upstreamOrigin: values.upstream, quick: values.quick ?? false });
if (process.send) process.send({ type: "ready", results }, () => process.disconnect());
else console.log(JSON.stringify(results, null, 2));
