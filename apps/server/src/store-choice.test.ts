import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { DEFAULT_STORE_CHOICE, parseStoreChoice } from "./store-choice.js";

describe("parseStoreChoice (CHATBOT_STORE)", () => {
  it("reads memory, sqlite:PATH, redis:// and unset (SQLite at the default path)", () => {
    expect(parseStoreChoice("", "CHATBOT_STORE")).toEqual(DEFAULT_STORE_CHOICE);
    expect(DEFAULT_STORE_CHOICE).toEqual({ kind: "sqlite", file: undefined });
    expect(parseStoreChoice(" memory ", "CHATBOT_STORE")).toEqual({ kind: "memory" });
    expect(parseStoreChoice("sqlite:/var/lib/chatbot/sessions.db", "CHATBOT_STORE")).toEqual({
      kind: "sqlite",
      file: "/var/lib/chatbot/sessions.db",
    });
    expect(parseStoreChoice("sqlite:./here.db", "CHATBOT_STORE")).toEqual({ kind: "sqlite", file: "./here.db" });
    expect(parseStoreChoice("redis://:pw@10.0.0.5:6379/0", "CHATBOT_STORE")).toEqual({
      kind: "redis",
      endpoint: expect.objectContaining({ host: "10.0.0.5", port: 6379, password: "pw", db: 0, tls: false }),
    });
    expect(parseStoreChoice("rediss://cache.example:6380", "CHATBOT_STORE")).toEqual({
      kind: "redis",
      endpoint: expect.objectContaining({ host: "cache.example", port: 6380, tls: true }),
    });
  });

  it("refuses anything else naming the variable, never repeating what follows a scheme (it may be a password)", () => {
    for (const bad of [
      "sqlite:",
      "postgres://user:hunter2@db/x",
      "Memory!",
      "file.db",
      "redis://:hunter2@host:6379/x",
      "redis://:hunter2@host/0?tls=1",
    ]) {
      let error: unknown;
      try {
        parseStoreChoice(bad, "CHATBOT_STORE");
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain("CHATBOT_STORE");
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
});
