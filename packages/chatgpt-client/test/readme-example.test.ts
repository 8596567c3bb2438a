/**
 * The README's example is real: this test takes its code block, runs it
 * against the built packages as another project would (a separate directory,
 * a child process, configuration from the environment), with API_URL pointing
 * at a fake OpenAI-compatible upstream, and compares what it prints with the
 * README's block.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of cleanup.splice(0)) await close();
});

describe("README example", () => {
  it("runs against a fake upstream and prints what the README says", async () => {
    const readme = await readFile(resolve(packageDir, "README.md"), "utf8");
    const section = /<!-- section:example -->([\s\S]*?)<!-- \/section:example -->/.exec(readme)?.[1];
    expect(section, "README has an example section").toBeDefined();
    const code = /```js\n([\s\S]*?)```/.exec(section!)?.[1];
    const printed = /it prints:\s*```\n([\s\S]*?)```/.exec(section!)?.[1];
    expect(code).toBeDefined();
    expect(printed).toBeDefined();

    const fake = await startFakeOpenAI();
    cleanup.push(() => fake.close());
    const dir = await mkdtemp(join(tmpdir(), "chatgpt-client-readme-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "chatgpt-client"), "dir");
    await symlink(resolve(packageDir, "../core"), join(dir, "node_modules", "@chatgptchatbot", "core"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(join(dir, "example.js"), code!);

    const env = {
      PATH: process.env.PATH,
      API_URL: `${fake.url}/chat/completions`,
      OPENAI_API_KEY: "sk-test-readme-0000000000000000",
    };
    const { stdout } = await promisify(execFile)(process.execPath, ["example.js"], { cwd: dir, env });
    expect(stdout).toBe(printed);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body.messages[0]).toEqual({ role: "system", content: "You are Mimi, a cheerful VTuber." });
    expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-test-readme-0000000000000000");
  });
});
