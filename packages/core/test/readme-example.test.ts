/**
 * The README's core example is real: this test takes the code block from the
 * README's core section, runs it against the built package as another
 * project would, and compares what it prints with the README's "Prints:" block.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const readmePath = resolve(packageDir, "../../README.md");
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe("README core example", () => {
  it("runs and prints what the README says", async () => {
    const readme = await readFile(readmePath, "utf8");
    const section = /<!-- section:core -->([\s\S]*?)<!-- \/section:core -->/.exec(readme)?.[1];
    expect(section, "README has a core section").toBeDefined();
    const code = /```js\n([\s\S]*?)```/.exec(section!)?.[1];
    const printed = /Prints:\s*```\n([\s\S]*?)```/.exec(section!)?.[1];
    expect(code).toBeDefined();
    expect(printed).toBeDefined();

    const dir = await mkdtemp(join(tmpdir(), "core-readme-"));
    dirs.push(dir);
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "core"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(join(dir, "example.js"), code!);
    const { stdout } = await promisify(execFile)(process.execPath, ["example.js"], { cwd: dir });
    expect(stdout).toBe(printed);
  });
});
