/**
 * The shape the README's dependency picture shows, checked on the sources:
 * core imports no other workspace package and no transport library; the two
 * transport apps never import each other (nor the server); only apps/server
 * composes them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Every module specifier imported by the package's non-test sources (src/, generated code excluded). */
function importsOf(packageDir: string): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "gen" && entry.name !== "node_modules") walk(path);
      } else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
        for (const [, specifier] of readFileSync(path, "utf8").matchAll(/\bfrom\s+"([^"]+)"/g)) found.add(specifier!);
      }
    }
  };
  walk(join(ROOT, packageDir, "src"));
  return found;
}

function dependenciesOf(packageDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, packageDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(manifest.dependencies ?? {});
}

describe("package layers", () => {
  it("core imports no workspace package, no transport and no vendor SDK", () => {
    const imports = [...importsOf("packages/core")].filter((s) => !s.startsWith("."));
    expect(imports.filter((s) => /^@chatgptchatbot\/|connectrpc|hono|grpc|openai|undici|pino/.test(s))).toEqual([]);
    expect(dependenciesOf("packages/core").filter((d) => d.startsWith("@chatgptchatbot/"))).toEqual([]);
  });

  it.each([
    ["apps/grpc-server", ["@chatgptchatbot/http-server", "@chatgptchatbot/server"]],
    ["apps/http-server", ["@chatgptchatbot/grpc-server", "@chatgptchatbot/server"]],
  ])("%s is a library that imports neither the other transport nor the program", (dir, forbidden) => {
    const imports = importsOf(dir);
    for (const name of forbidden) {
      expect(
        [...imports].filter((s) => s === name || s.startsWith(`${name}/`)),
        name,
      ).toEqual([]);
      expect(dependenciesOf(dir), name).not.toContain(name);
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { bin?: unknown };
    expect(manifest.bin, "no command of its own").toBeUndefined();
  });

  it("apps/server composes both transports and owns the chatgptchatbot command", () => {
    const imports = importsOf("apps/server");
    expect(imports).toContain("@chatgptchatbot/grpc-server");
    expect(imports).toContain("@chatgptchatbot/http-server");
    const manifest = JSON.parse(readFileSync(join(ROOT, "apps/server/package.json"), "utf8")) as {
      bin?: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ chatgptchatbot: "./dist/main.js" });
  });
});
