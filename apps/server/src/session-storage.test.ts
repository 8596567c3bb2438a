import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryCoordinator, MemorySessionStore } from "@chatgptchatbot/core";
import { SqliteCoordinator, SqliteSessionStore, SqliteStoreError } from "@chatgptchatbot/store-sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSessionStorage, StoreOpenError } from "./session-storage.js";

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "session-storage-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const base = { key: undefined, serverCredentials: { apiKeys: ["sk-test-server-0001"] }, homeDir: "/nonexistent-home" };

describe("openSessionStorage", () => {
  it("memory: the in-process store and coordinator, nothing to remember the default session in", async () => {
    const storage = openSessionStorage({ ...base, choice: { kind: "memory" }, env: {} });
    expect(storage.store).toBeInstanceOf(MemorySessionStore);
    expect(storage.coordinator).toBeInstanceOf(MemoryCoordinator);
    expect(storage.defaultSessionMemory).toBeUndefined();
    expect(storage.description).toEqual({ store: "memory" });
    await storage.close();
  });

  it("sqlite at the default path: $XDG_STATE_HOME/chatgptchatbot/sessions.db, owner-only, with its coordinator", async () => {
    const storage = openSessionStorage({ ...base, choice: { kind: "sqlite", file: undefined }, env: { XDG_STATE_HOME: folder } });
    const file = join(folder, "chatgptchatbot", "sessions.db");
    expect(storage.description).toEqual({ store: "sqlite", storePath: file });
    expect(storage.store).toBeInstanceOf(SqliteSessionStore);
    expect(storage.coordinator).toBeInstanceOf(SqliteCoordinator);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await storage.close();
  });

  it("remembers the HTTP API's default session in the file, across a reopen", async () => {
    const choice = { kind: "sqlite", file: join(folder, "s.db") } as const;
    const first = openSessionStorage({ ...base, choice, env: {} });
    expect(await first.defaultSessionMemory!.load()).toBeUndefined();
    await first.defaultSessionMemory!.save({ sessionId: "s-1", config: '{"version":3,"api_key":"sk-test-renewed-0002"}' });
    await first.close();
    const second = openSessionStorage({ ...base, choice, env: {} });
    const loaded = await second.defaultSessionMemory!.load();
    expect(loaded).toEqual({ sessionId: "s-1", config: '{"version":3,"api_key":"sk-test-renewed-0002"}' });
    await second.close();
  });

  it("a file that is no store stops the open with one line naming it", () => {
    const file = join(folder, "junk.db");
    writeFileSync(file, "this is not a database, just some text that is long enough ".repeat(100));
    expect(() => openSessionStorage({ ...base, choice: { kind: "sqlite", file }, env: {} })).toThrow(SqliteStoreError);
    try {
      openSessionStorage({ ...base, choice: { kind: "sqlite", file }, env: {} });
    } catch (error) {
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).not.toContain("\n");
    }
  });

  it("redis: not supported yet, in one line that does not repeat the URL (it may hold a password)", () => {
    let error: unknown;
    try {
      openSessionStorage({ ...base, choice: { kind: "redis", url: "redis://:hunter2@10.0.0.5:6379" }, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as Error).message).toMatch(/not supported yet/);
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("no home folder and no XDG_STATE_HOME: says to set CHATBOT_STORE", () => {
    expect(() => openSessionStorage({ ...base, homeDir: "", choice: { kind: "sqlite", file: undefined }, env: {} })).toThrow(
      /CHATBOT_STORE/,
    );
  });
});
