import type { CredentialSealer } from "./record-codec.js";
import type { RedisConnection } from "./redis-connection.js";

/** What `key-check` holds sealed: opening it proves the key is the one records were sealed with. */
const KEY_CHECK_PLAINTEXT = "chatgptchatbot session store key check";
const KEY_CHECK_CONTEXT = "key-check";

/** A key problem found at start: the program prints the message as its one line and stops. */
export class RedisStoreKeyError extends Error {
  override readonly name = "RedisStoreKeyError";
}

/**
 * Settles, at start, that every replica seals credentials with one key:
 * - records written with a key, no key given → throws;
 * - another key given → throws;
 * - a key given and none recorded yet → records this one (the first replica wins, atomically);
 * - no key either way → credentials are stored as JSON.
 * Records written before a key was set stay readable (plaintext is read as it is).
 *
 * @throws RedisStoreKeyError (one line, no key in it); core's Unavailable when Redis cannot be reached.
 */
export async function checkStoreKey({
  connection,
  cipher,
}: {
  connection: RedisConnection;
  cipher: CredentialSealer | undefined;
}): Promise<void> {
  const key = `${connection.keys.prefix}key-check`;
  const where = `session store ${connection.describe()} (prefix ${JSON.stringify(connection.keys.prefix)})`;
  if (cipher !== undefined) {
    const sealed = Buffer.from(cipher.seal({ plaintext: KEY_CHECK_PLAINTEXT, context: KEY_CHECK_CONTEXT })).toString(
      "base64",
    );
    await connection.run((client) => client.set(key, sealed, "NX"));
  }
  const stored = await connection.run((client) => client.get(key));
  if (stored === null) return;
  if (cipher === undefined) {
    throw new RedisStoreKeyError(
      `${where}: its credentials are encrypted, but CHATBOT_STORE_KEY is not set; set it to the key the store was written with`,
    );
  }
  if (cipher.open({ sealed: Buffer.from(stored, "base64"), context: KEY_CHECK_CONTEXT }) !== KEY_CHECK_PLAINTEXT) {
    throw new RedisStoreKeyError(`${where}: CHATBOT_STORE_KEY is not the key this store was written with`);
  }
}
