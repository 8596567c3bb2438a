// Bundles the browser page (src/page) into dist/assets: index.html, app.js (+ map) and styles.css.
// esbuild: one small, fast, dependency-free bundler that resolves the workspace packages' ESM exports.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL(".", import.meta.url));
const page = `${root}src/page/`;
const out = `${root}dist/assets/`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: `${page}main.ts` },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome109", "firefox115", "safari16"],
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  // tsup's shared chunks in @chatgptchatbot/proto are imported bare; they are side-effect free, as declared.
  logOverride: { "ignored-bare-import": "silent" },
});
await build({
  entryPoints: { styles: `${page}styles.css` },
  outdir: out,
  bundle: true,
  minify: true,
  target: ["chrome109", "firefox115", "safari16"],
  logLevel: "warning",
});
await copyFile(`${page}index.html`, `${out}index.html`);
