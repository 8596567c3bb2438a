import { randomUUID } from "node:crypto";
import { describeCoordinatorConformance, describeSessionStoreConformance } from "@chatgptchatbot/testkit/testing";
import { afterAll, beforeAll, describe } from "vitest";
import { skipWithoutRedis, startTestRedis, type TestRedis } from "../test/redis-server.js";
import { RedisConnection } from "./redis-connection.js";
import { RedisCoordinator } from "./redis-coordinator.js";
import { RedisSessionStore } from "./redis-session-store.js";

describe.skipIf(skipWithoutRedis)("store-redis on a real redis-server", () => {
  // One server without a password and one with `requirepass`, both the tests' own.
  let open: TestRedis;
  let guarded: TestRedis;
  beforeAll(async () => {
    [open, guarded] = await Promise.all([startTestRedis(), startTestRedis({ password: "test-only-redis-pass" })]);
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close()]);
  });

  /** A fresh prefix per store or coordinator: an empty keyspace on a shared server. */
  const prefix = (): string => `test-${randomUUID().slice(0, 8)}:`;

  describeSessionStoreConformance("Redis", () => {
    const connection = new RedisConnection({ url: open.url(), prefix: prefix() });
    return { store: new RedisSessionStore({ connection, ttlMs: 60_000 }), close: () => connection.close() };
  });

  describeSessionStoreConformance("Redis with requirepass, database 3, no TTL", () => {
    const connection = new RedisConnection({ url: guarded.url(3), prefix: prefix() });
    return { store: new RedisSessionStore({ connection }), close: () => connection.close() };
  });

  /** Second handles on a coordinator's state: another connection, as another replica has. */
  const replicasOf = new Map<object, { url: string; prefix: string; closers: Array<() => Promise<void>> }>();

  describeCoordinatorConformance(
    "Redis with requirepass",
    () => {
      const shared = { url: guarded.url(), prefix: prefix(), closers: [] as Array<() => Promise<void>> };
      const connection = new RedisConnection({ url: shared.url, prefix: shared.prefix });
      const coordinator = new RedisCoordinator({ connection, pollMs: 50 });
      const underTest = {
        coordinator,
        // Cooldowns and leases run on Redis's clock: time passes for real.
        advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms + 5)),
        close: async () => {
          coordinator.close();
          await connection.close();
          for (const close of shared.closers) await close();
        },
      };
      replicasOf.set(underTest, shared);
      return underTest;
    },
    {
      replicas: (first) => {
        const shared = replicasOf.get(first);
        if (shared === undefined) throw new Error("unknown coordinator");
        const connection = new RedisConnection({ url: shared.url, prefix: shared.prefix });
        const coordinator = new RedisCoordinator({ connection, pollMs: 50 });
        shared.closers.push(async () => {
          coordinator.close();
          await connection.close();
        });
        return coordinator;
      },
    },
  );
});
