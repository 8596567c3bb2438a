import { createHmac, randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** The meta key of the random salt credentials are hashed with. */
const SALT_KEY = "cooldown_salt";
const SALT_BYTES = 32;

/**
 * The engine of the persisted cooldowns: when each credential was last used
 * upstream, keyed by an HMAC-SHA256 of the credential under a random salt
 * kept in the file. The credential itself is never written; the salt makes
 * the same key hash differently in every store, so two files cannot be
 * matched up by their hashes.
 */
export class CooldownTable {
  readonly #salt: Uint8Array;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #forget: StatementSync;

  /** Creates the salt when the file has none yet (its first coordinator). */
  constructor({ db }: { db: DatabaseSync }) {
    const select = db.prepare("SELECT value FROM meta WHERE key = ?");
    let row = select.get(SALT_KEY) as { value: Uint8Array } | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run(SALT_KEY, randomBytes(SALT_BYTES));
      row = select.get(SALT_KEY) as { value: Uint8Array };
    }
    this.#salt = row.value;
    this.#select = db.prepare("SELECT credential_hash, last_used_at FROM cooldowns");
    this.#upsert = db.prepare(
      `INSERT INTO cooldowns (credential_hash, last_used_at) VALUES (?, ?)
         ON CONFLICT (credential_hash) DO UPDATE SET last_used_at = excluded.last_used_at`,
    );
    this.#forget = db.prepare("DELETE FROM cooldowns WHERE last_used_at < ?");
  }

  /** The stored key of a credential (hex, so it can key a Map too). */
  hash(credential: string): string {
    return createHmac("sha256", this.#salt).update(credential, "utf8").digest("hex");
  }

  /** Every stored last use, by hash. */
  load(): Map<string, number> {
    const rows = this.#select.all() as Array<{ credential_hash: Uint8Array; last_used_at: number }>;
    return new Map(rows.map((row) => [Buffer.from(row.credential_hash).toString("hex"), row.last_used_at]));
  }

  /** Records a use; one statement, committed when it returns. */
  recordUse(hash: string, at: number): void {
    this.#upsert.run(Buffer.from(hash, "hex"), at);
  }

  /** Forgets uses older than `cutoff` (epoch ms): their cooldowns are over. */
  forgetBefore(cutoff: number): void {
    this.#forget.run(cutoff);
  }
}
