/**
 * Imports @chatgptchatbot/chatgpt-client the way another project does:
 * through the package's `exports` (the built dist), in a child process.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe("@chatgptchatbot/chatgpt-client as a dependency", () => {
  it("exports the factories and both backends from its built entry", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chatgpt-client-exports-"));
    dirs.push(dir);
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "chatgpt-client"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(
      join(dir, "consumer.js"),
      `import * as client from "@chatgptchatbot/chatgpt-client";
const backends = client.createBackends({ chatgptBaseUrl: "http://127.0.0.1:9/api" });
const kinds = [backends.resolve({ kind: "api-key", version: 3, credentials: ["k"] }).initialPrompt, backends.resolve({ kind: "access-token", version: 1, credentials: ["t"] }).initialPrompt];
await backends.close();
console.log(JSON.stringify({ kinds, names: ["createBackends", "OpenAIBackend", "ChatGPTWebBackend"].filter((n) => typeof client[n] === "function") }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ["consumer.js"], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      kinds: ["system", "ask"],
      names: ["createBackends", "OpenAIBackend", "ChatGPTWebBackend"],
    });
  });
});
