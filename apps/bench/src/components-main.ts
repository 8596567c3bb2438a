/** Child process: `--upstream ORIGIN [--quick]`, reports ComponentResult[] (see components.ts). */

import { parseCli } from "./cli-args.js";
import { measureComponents } from "./components.js";

const { values } = parseCli(
  "node dist/components-main.js --upstream ORIGIN [--quick]: a child of pnpm bench, measuring the server's components",
  { options: { upstream: { type: "string" }, quick: { type: "boolean", default: false } } },
);
if (values.upstream === undefined) throw new Error("--upstream <origin> is required");
const results = await measureComponents({ upstreamOrigin: values.upstream, quick: values.quick ?? false });
if (process.send) process.send({ type: "ready", results }, () => process.disconnect());
else console.log(JSON.stringify(results, null, 2));
