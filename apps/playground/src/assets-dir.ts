import { fileURLToPath } from "node:url";

/**
 * The directory holding the bundled page (index.html, app.js, styles.css),
 * written by this package's build. Resolved from the package root, so it is
 * the same from `dist/index.js` and from the sources under test.
 */
export const playgroundAssetsDir: string = fileURLToPath(new URL("../dist/assets/", import.meta.url));
