import { isAbsolute, join } from "node:path";

/**
 * Where the `chatgptchatbot` command keeps its sessions when CHATBOT_STORE
 * does not say: `$XDG_STATE_HOME/chatgptchatbot/sessions.db`, else
 * `~/.local/state/chatgptchatbot/sessions.db` (the XDG Base Directory
 * specification's state folder: data that should survive a restart but is
 * not worth a backup). Never relative to the working directory, so
 * `pnpm start` from any folder finds the same sessions.
 *
 * @param env the environment (passed in: libraries do not read process.env).
 * @param homeDir the user's home folder (`os.homedir()`).
 */
export function defaultStorePath({
  env,
  homeDir,
}: {
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
}): string {
  const xdg = env.XDG_STATE_HOME;
  // The specification says a relative value is invalid and must be ignored.
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "chatgptchatbot", "sessions.db");
  if (!isAbsolute(homeDir)) {
    throw new Error(
      "no absolute home folder and no absolute XDG_STATE_HOME: set CHATBOT_STORE to sqlite:/absolute/path",
    );
  }
  return join(homeDir, ".local", "state", "chatgptchatbot", "sessions.db");
}
