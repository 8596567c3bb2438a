import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { testSealer } from "../test/test-sealer.js";
import { RedisConnection } from "./redis-connection.js";
import { checkStoreKey, RedisStoreKeyError } from "./store-key-check.js";

describe.skipIf(skipWithoutRedis)("checkStoreKey", () => {
  let server: TestRedis;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    server = await startTestRedis({ password: "test-only-key-check-pass" });
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close();
  });
  const connect = (prefix: string): RedisConnection => {
    const connection = new RedisConnection({ url: server.url(), prefix });
    connections.push(connection);
    return connection;
  };

  it("records the first key, accepts it again, refuses another key and no key, each in one line without the key", async () => {
    const prefix = `k-${randomUUID().slice(0, 8)}:`;
    const key = new Uint8Array(32).fill(1);
    await checkStoreKey({ connection: connect(prefix), cipher: testSealer(key) });
    await checkStoreKey({ connection: connect(prefix), cipher: testSealer(key) });
    const wrong = checkStoreKey({ connection: connect(prefix), cipher: testSealer(new Uint8Array(32).fill(2)) });
    await expect(wrong).rejects.toThrow(RedisStoreKeyError);
    await expect(wrong).rejects.toThrow(/CHATBOT_STORE_KEY is not the key this store was written with$/);
    const none = checkStoreKey({ connection: connect(prefix), cipher: undefined });
    await expect(none).rejects.toThrow(
      /^session store redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 .*CHATBOT_STORE_KEY is not set/,
    );
    await expect(none).rejects.not.toThrow(/test-only-key-check-pass/);
  });

  it("without a key on a store that never had one, nothing is recorded", async () => {
    const prefix = `k-${randomUUID().slice(0, 8)}:`;
    const connection = connect(prefix);
    await checkStoreKey({ connection, cipher: undefined });
    expect(await connection.client.keys(`${prefix}*`)).toEqual([]);
  });
});
