import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // A guard: a program started in-process without a store of its own would
    // fall back to os.homedir(); make that a temp folder, never the real home.
    // (Every harness also sets its own state folder or CHATBOT_STORE.)
    env: {
      HOME: join(tmpdir(), "chatgptchatbot-tests-home"),
      XDG_STATE_HOME: join(tmpdir(), "chatgptchatbot-tests-state"),
    },
  },
});
