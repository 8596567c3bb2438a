import type { CredentialSealer } from "./record-codec.js";
import type { RedisConnection } from "./redis-connection.js";
import { RedisScript } from "./redis-script.js";

/**
 * Sets KEYS[1] to ARGV[2] only while it still holds what the caller read:
 * ARGV[1] is "1" and the value ARGV[3] (compared as stored, sealed or not),
 * or "0" for absent. Returns 1 when set, 0 when someone wrote first.
 */
const COMPARE_AND_SET = new RedisScript({
  keys: 1,
  lua: `
local current = redis.call("GET", KEYS[1])
if ARGV[1] == "0" then
  if current then return 0 end
elseif current ~= ARGV[3] then
  return 0
end
redis.call("SET", KEYS[1], ARGV[2])
return 1
`,
});

/** How often {@link RedisNamedState.update} reads again after losing a race before it gives up. */
const MAX_UPDATE_ATTEMPTS = 8;

/** How a sealed value starts (a plaintext value is stored as it is). */
const SEALED = "sealed:";

/**
 * Small named values every replica shares beside the sessions (the program
 * keeps the HTTP API's default session in one: its id and the credential of
 * the last renew). Sealed with the store key when there is one, since a
 * value may hold a credential; the name is the associated data, so a value
 * copied under another name does not open there. No TTL: a value lives until
 * it is written again.
 */
export class RedisNamedState {
  readonly #connection: RedisConnection;
  readonly #cipher: CredentialSealer | undefined;

  constructor({ connection, cipher }: { connection: RedisConnection; cipher?: CredentialSealer | undefined }) {
    this.#connection = connection;
    this.#cipher = cipher;
  }

  /**
   * @returns the value, or undefined when there is none or it cannot be read
   *   here (sealed with another key, or sealed and this replica has no key).
   * @throws core's Unavailable when Redis cannot be reached.
   */
  async read(name: string): Promise<string | undefined> {
    const stored = await this.#connection.run((client) => client.get(this.#connection.keys.state(name)));
    return stored === null ? undefined : this.#open(name, stored);
  }

  /** @throws core's Unavailable when Redis cannot be reached. */
  async write(name: string, value: string): Promise<void> {
    const stored = this.#seal(name, value);
    await this.#connection.run((client) => client.set(this.#connection.keys.state(name), stored));
  }

  /**
   * Changes a value only from what `decide` saw, whatever other replicas do
   * meanwhile (optimistic: read, decide, set if unchanged, else read again).
   * `decide` gets the current value (undefined: none, or unreadable here)
   * and returns the new one, or undefined to leave it.
   *
   * @returns the value held afterwards: the one written, or the current one when `decide` kept it.
   * @throws core's Unavailable when Redis cannot be reached; an Error when other writers kept winning.
   */
  async update(name: string, decide: (current: string | undefined) => string | undefined): Promise<string | undefined> {
    const key = this.#connection.keys.state(name);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const stored = await this.#connection.run((client) => client.get(key));
      const current = stored === null ? undefined : this.#open(name, stored);
      const next = decide(current);
      if (next === undefined) return current;
      const args = stored === null ? ["0", this.#seal(name, next)] : ["1", this.#seal(name, next), stored];
      const set = await this.#connection.run((client) => COMPARE_AND_SET.run(client, [key], args));
      if (set === 1) return next;
    }
    throw new Error(`state ${name}: other writers kept changing it`);
  }

  #seal(name: string, value: string): string {
    if (this.#cipher === undefined) return value;
    return SEALED + Buffer.from(this.#cipher.seal({ plaintext: value, context: `state:${name}` })).toString("base64");
  }

  #open(name: string, stored: string): string | undefined {
    if (!stored.startsWith(SEALED)) return stored;
    if (this.#cipher === undefined) return undefined;
    return this.#cipher.open({ sealed: Buffer.from(stored.slice(SEALED.length), "base64"), context: `state:${name}` });
  }
}
