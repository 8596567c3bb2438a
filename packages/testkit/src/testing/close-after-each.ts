import { afterEach } from "vitest";

/** What tests opened and must close: fakes, servers, dispatchers, pools. */
export type Closers = (() => unknown)[];

/**
 * A list each test pushes a close onto for what it opened; after each test
 * {@link closeAll} empties it. One per test file (or describe), in place of
 * a hand-written afterEach loop.
 */
export function closeAfterEach(): Closers {
  const closers: Closers = [];
  afterEach(() => closeAll(closers));
  return closers;
}

/**
 * Runs and removes every close, the last pushed first (a client before the
 * server it talks to). Every close runs even when one throws, so a failing
 * close cannot leave a server holding the run open; then the first failure
 * is thrown.
 */
export async function closeAll(closers: Closers): Promise<void> {
  const failures: unknown[] = [];
  for (const close of closers.splice(0).reverse()) {
    try {
      await close();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
