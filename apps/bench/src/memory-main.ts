/** Child process (node --expose-gc): `--sessions N --turns T`, reports a MemoryResult. */
import { parseArgs } from "node:util";
import { measureSessionMemory } from "./memory.js";

const { values } = parseArgs({ options: { sessions: { type: "string" }, turns: { type: "string", default: "20" } } });
const result = await measureSessionMemory({ sessions: Number(values.sessions ?? 1000), turns: Number(values.turns) });
if (process.send) process.send({ type: "ready", result }, () => process.disconnect());
else console.log(JSON.stringify(result, null, 2));
