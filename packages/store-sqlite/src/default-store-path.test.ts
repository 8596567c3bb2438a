import { describe, expect, it } from "vitest";
import { defaultStorePath } from "./default-store-path.js";

describe("defaultStorePath", () => {
  it("uses XDG_STATE_HOME when it is an absolute path", () => {
    expect(defaultStorePath({ env: { XDG_STATE_HOME: "/srv/state" }, homeDir: "/home/ann" })).toBe(
      "/srv/state/chatgptchatbot/sessions.db",
    );
  });

  it("falls back to ~/.local/state when XDG_STATE_HOME is unset, empty or relative", () => {
    for (const XDG_STATE_HOME of [undefined, "", "relative/state"]) {
      expect(defaultStorePath({ env: { XDG_STATE_HOME }, homeDir: "/home/ann" })).toBe(
        "/home/ann/.local/state/chatgptchatbot/sessions.db",
      );
    }
  });

  it("never depends on the working directory", () => {
    const before = defaultStorePath({ env: {}, homeDir: "/home/ann" });
    const cwd = process.cwd();
    process.chdir("/");
    try {
      expect(defaultStorePath({ env: {}, homeDir: "/home/ann" })).toBe(before);
    } finally {
      process.chdir(cwd);
    }
    expect(() => defaultStorePath({ env: {}, homeDir: "" })).toThrow(/CHATBOT_STORE/);
  });
});
