/**
 * Imports @chatgptchatbot/core the way another project does: a separate
 * directory whose node_modules links the package, resolved by Node through
 * the package's `exports` (the built dist), in a child process.
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

const consumer = `
import { SessionPool, ChatbotError, ErrorCode } from "@chatgptchatbot/core";

/** A tiny backend: streams its reply in words, after a thought that must never show. */
const backend = {
  initialPrompt: "system",
  async *ask({ prompt, history, systemPrompt }) {
    yield { type: "reasoning", text: "secret thoughts" };
    for (const word of \`[\${systemPrompt}|\${history.length}] you said \${prompt}\`.split(/(?= )/)) yield { type: "text", text: word };
    yield { type: "finish" };
  },
};

const pool = new SessionPool({ backends: () => backend, cooldown: { apiKeyMs: 0 } });
const { sessionId } = await pool.create({ config: '{"version": 3, "api_key": "sk-test-consumer"}', initialPrompt: "be nice" });
const first = await pool.chat({ sessionId, prompt: "hello" });
const second = await pool.chat({ sessionId, prompt: "bye" });
const streamed = [];
for await (const part of pool.chatStream({ sessionId, prompt: "again. And again" })) streamed.push(part);
await pool.delete(sessionId);
let code;
try { await pool.chat({ sessionId, prompt: "gone?" }); } catch (e) { code = e instanceof ChatbotError ? e.code : "not a ChatbotError"; }
await pool.close();
console.log(JSON.stringify({ first, second, streamed, code, notFound: ErrorCode.SessionNotFound }));
`;

describe("@chatgptchatbot/core as a dependency", () => {
  it("resolves through its exports and runs a session", async () => {
    const dir = await mkdtemp(join(tmpdir(), "core-consumer-"));
    dirs.push(dir);
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "core"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
    await writeFile(join(dir, "main.js"), consumer);
    const { stdout } = await promisify(execFile)(process.execPath, ["main.js"], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      first: "[be nice|0] you said hello",
      second: "[be nice|2] you said bye",
      streamed: [
        { type: "sentence", text: "[be nice|4] you said again." },
        { type: "sentence", text: "And again" },
        { type: "done", reply: "[be nice|4] you said again. And again" },
      ],
      code: "session_not_found",
      notFound: "session_not_found",
    });
  });
});
