import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded again with EVAL when the
 * server answers NOSCRIPT (a restarted or flushed Redis forgets scripts).
 * Each script runs atomically on the server: a write it makes is whole or
 * absent, which is how every multi-key change of this package is made.
 * Scripts validate everything before their first write, because Redis does
 * not roll back a script that fails half-way.
 */
export class RedisScript {
  readonly #lua: string;
  readonly #sha: string;
  /** How many keys it takes; undefined: any number (e.g. one per credential). */
  readonly #keys: number | undefined;

  constructor({ lua, keys }: { lua: string; keys?: number }) {
    this.#lua = lua;
    this.#sha = createHash("sha1").update(lua).digest("hex");
    this.#keys = keys;
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (this.#keys !== undefined && keys.length !== this.#keys)
      throw new RangeError(`script takes ${this.#keys} keys, got ${keys.length}`);
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await client.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
