/**
 * The README's example is real: this test takes its code block, runs it
 * against the built package as another project would (a separate directory,
 * a child process), and compares what it prints with the README's block.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe("README example", () => {
  it("prints what the README says, through the package's exports", async () => {
    const readme = await readFile(resolve(packageDir, "README.md"), "utf8");
    const section = /<!-- section:example -->([\s\S]*?)<!-- \/section:example -->/.exec(readme)?.[1];
    const code = section === undefined ? undefined : /```js\n([\s\S]*?)```/.exec(section)?.[1];
    const printed = section === undefined ? undefined : /it prints:\s*```\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, "README has an example block").toBeDefined();
    expect(printed, "README says what it prints").toBeDefined();

    const dir = await mkdtemp(join(tmpdir(), "sse-readme-"));
    dirs.push(dir);
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "sse"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(join(dir, "example.js"), code!);
    const { stdout } = await promisify(execFile)(process.execPath, ["example.js"], { cwd: dir });
    expect(stdout).toBe(printed);
  });
});
