/**
 * Where a program under test keeps its state: a fresh temp folder as HOME
 * and XDG_STATE_HOME, so the default store (SQLite under the XDG state
 * folder) is the one users get, and no test ever writes to the real home.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StateFolder {
  readonly path: string;
  /** HOME and XDG_STATE_HOME inside the folder. */
  readonly env: { readonly HOME: string; readonly XDG_STATE_HOME: string };
  /** The default store's file in it. */
  readonly storeFile: string;
  remove(): void;
}

/** Folders not removed yet: a suite may leave a program running to the end; they go when the worker exits. */
const leftovers = new Set<string>();
process.once("exit", () => {
  for (const path of leftovers) rmSync(path, { recursive: true, force: true });
});

export function stateFolder(): StateFolder {
  const path = mkdtempSync(join(tmpdir(), "chatbot-state-"));
  leftovers.add(path);
  const env = { HOME: join(path, "home"), XDG_STATE_HOME: join(path, "state") };
  return {
    path,
    env,
    storeFile: join(env.XDG_STATE_HOME, "chatgptchatbot", "sessions.db"),
    remove: () => {
      leftovers.delete(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
