/**
 * Child process: the reference server of issue 16 (see reference-server.ts).
 * `--system-prompt TEXT --model NAME [--max-tokens 3000]`: the harness hands
 * over the server's default persona and model, so that both send the same
 * request bodies and this process loads nothing of the server's packages.
 */
import { onParentMessage, sendToParent } from "./child-process.js";
import { parseCli } from "./cli-args.js";
import { startReferenceServer } from "./reference-server.js";

const { values } = parseCli(
  "node dist/reference-main.js --system-prompt TEXT --model NAME [options]: a child of versus-reference, issue 16's reference server",
  {
    options: {
      "system-prompt": { type: "string" },
      model: { type: "string" },
      "max-tokens": { type: "string", default: "3000" },
    },
  },
);
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
