/**
 * Child process: the reference server of issue 16 (see reference-server.ts).
 * `--system-prompt TEXT --model NAME [--max-tokens 3000]`: the harness hands
 * over the server's default persona and model, so that both send the same
 * request bodies and this process loads nothing of the server's packages.
 */
import { parseArgs } from "node:util";
import { onParentMessage, sendToParent } from "./child-process.js";
import { startReferenceServer } from "./reference-server.js";

const { values } = parseArgs({
  options: {
    "system-prompt": { type: "string" },
    model: { type: "string" },
    "max-tokens": { type: "string", default: "3000" },
  },
});
if (values["system-prompt"] === undefined || values.model === undefined)
  throw new Error("--system-prompt TEXT and --model NAME are required");
const server = await startReferenceServer({
  defaultSystemPrompt: values["system-prompt"],
  defaultModel: values.model,
  maxTokens: Number(values["max-tokens"]),
});
onParentMessage(
  () => {},
  () => server.close(),
);
sendToParent({ type: "ready", address: server.address });
