/**
 * The README's example is real: this test runs its code block against the
 * built package as another project would (a folder whose node_modules links
 * the packages), with CHATBOT_STORE pointing at the test's own redis-server,
 * and compares what it prints with the README's "Prints:" block.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "./redis-server.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe.skipIf(skipWithoutRedis)("README example", () => {
  let server: TestRedis;
  const folder = mkdtempSync(join(tmpdir(), "store-redis-readme-"));
  beforeAll(async () => {
    server = await startTestRedis({ password: "test-only-readme-pass" });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("shares a session, its turn and a cooldown between two replicas, printing what the README says", async () => {
    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    const section = /<!-- section:example -->([\s\S]*?)<!-- \/section:example -->/.exec(readme)?.[1];
    const code = /```js\n([\s\S]*?)```/.exec(section ?? "")?.[1];
    const printed = /Prints:\s*```\n([\s\S]*?)```/.exec(section ?? "")?.[1];
    expect(code).toBeDefined();
    expect(printed).toBeDefined();

    const dir = join(folder, "project");
    await mkdir(join(dir, "node_modules", "@chatgptchatbot"), { recursive: true });
    await symlink(packageDir, join(dir, "node_modules", "@chatgptchatbot", "store-redis"), "dir");
    await symlink(resolve(packageDir, "../core"), join(dir, "node_modules", "@chatgptchatbot", "core"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await writeFile(join(dir, "example.js"), code!);
    const env = { PATH: process.env.PATH ?? "", CHATBOT_STORE: server.url(0) };
    const { stdout } = await promisify(execFile)(process.execPath, ["example.js"], { cwd: dir, env });
    expect(stdout).toBe(printed);
  });
});
