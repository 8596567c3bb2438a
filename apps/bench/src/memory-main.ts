/** Child process (node --expose-gc): `--sessions N --turns T`, reports a MemoryResult. */

import { parseCli } from "./cli-args.js";
import { measureSessionMemory } from "./memory.js";

const { values } = parseCli(
  "node --expose-gc dist/memory-main.js [options]: a child of pnpm bench, the memory of --sessions sessions",
  { options: { sessions: { type: "string" }, turns: { type: "string", default: "20" } } },
);
const result = await measureSessionMemory({ sessions: Number(values.sessions ?? 1000), turns: Number(values.turns) });
if (process.send) process.send({ type: "ready", result }, () => process.disconnect());
else console.log(JSON.stringify(result, null, 2));
