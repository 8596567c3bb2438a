import { SessionPool } from "@chatgptchatbot/core";
import { ScriptedBackend } from "@chatgptchatbot/testkit/testing";
import { afterEach } from "vitest";
import { createGrpcServer, type GrpcServer } from "../src/server.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/**
 * A real server on 127.0.0.1 over a pool of scripted sessions (no sweep; no
 * cooldown unless `apiKeyMs`; a new backend per session unless `backend`), closed after the test. Importing this module registers the cleanup.
 */
export async function serveScripted(
  options: Omit<Parameters<typeof createGrpcServer>[0], "pool">,
  { backend, apiKeyMs = 0 }: { backend?: ScriptedBackend; apiKeyMs?: number } = {},
): Promise<{ server: GrpcServer; url: string }> {
  const pool = new SessionPool({
    backends: () => backend ?? new ScriptedBackend(),
    sweepIntervalMs: 0,
    cooldown: { apiKeyMs },
  });
  const server = createGrpcServer({ pool, ...options });
  const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
  cleanup.push(
    () => pool.close(),
    () => server.close({ timeoutMs: 100 }),
  );
  return { server, url };
}
