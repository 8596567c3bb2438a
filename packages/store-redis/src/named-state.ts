import type { CredentialSealer } from "./record-codec.js";
import type { RedisConnection } from "./redis-connection.js";

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
    if (stored === null) return undefined;
    if (!stored.startsWith(SEALED)) return stored;
    if (this.#cipher === undefined) return undefined;
    return this.#cipher.open({ sealed: Buffer.from(stored.slice(SEALED.length), "base64"), context: `state:${name}` });
  }

  /** @throws core's Unavailable when Redis cannot be reached. */
  async write(name: string, value: string): Promise<void> {
    const stored =
      this.#cipher === undefined
        ? value
        : SEALED + Buffer.from(this.#cipher.seal({ plaintext: value, context: `state:${name}` })).toString("base64");
    await this.#connection.run((client) => client.set(this.#connection.keys.state(name), stored));
  }
}
