/**
 * The README's configuration examples are real: every variable they set is in
 * the environment table, with a value the program accepts.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { configReference, readConfig } from "../src/config.js";

const README = new URL("../../../README.md", import.meta.url);

describe("README configuration examples", () => {
  it("name only real variables, with values the server accepts", async () => {
    const readme = await readFile(README, "utf8");
    const block = /### Examples\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "README has a configuration Examples block").toBeDefined();
    const commands = block!
      .replace(/\\\n/g, " ")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
    expect(commands.length).toBeGreaterThanOrEqual(5);
    const reference = configReference();
    for (const command of commands) {
      const env: Record<string, string> = {};
      for (const [, name, value] of command.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=(\S+)/g)) env[name!] = value!;
      expect(Object.keys(env).length, command).toBeGreaterThan(0);
      for (const name of Object.keys(env)) expect(reference, `${name} is documented`).toContain(name);
      expect(() => readConfig(env), command).not.toThrow();
    }
  });
});
