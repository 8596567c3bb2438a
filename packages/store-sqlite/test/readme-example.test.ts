/**
 * The README's example is real: this test runs its code block against the
 * built package as another project would (a folder whose node_modules links
 * the packages), with XDG_STATE_HOME in a temp folder, and compares what it
 * prints with the README's "Prints:" block.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { tempFolder } from "./fixtures.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const folder = tempFolder();
afterAll(() => folder.cleanup());

describe("README example", () => {
  it("keeps a session across a restart, in the XDG state folder, and prints what the README says", async () => {
    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    const section = /<!-- section:example -->([\s\S]*?)<!-- \/section:example -->/.exec(readme)?.[1];
    const code = /```js\n([\s\S]*?)```/.exec(section ?? "")?.[1];
    const printed = /Prints:\s*```\n([\s\S]*?)```/.exec(section ?? "")?.[1];
    expect(code).toBeDefined();
    expect(printed).toBeDefined();

    const dir = join(folder.path, "project");
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "store-sqlite"), "dir");
    await symlink(resolve(packageDir, "../core"), join(dir, "node_modules", "@chatgptchatbot", "core"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(join(dir, "example.js"), code!);
    const state = join(folder.path, "state");
    const env = { PATH: process.env.PATH ?? "", HOME: join(folder.path, "home"), XDG_STATE_HOME: state };
    const { stdout } = await promisify(execFile)(process.execPath, ["example.js"], { cwd: dir, env });
    expect(stdout).toBe(printed);
    expect((await stat(join(state, "chatgptchatbot", "sessions.db"))).mode & 0o777).toBe(0o600);
  });
});
