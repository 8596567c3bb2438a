import type { DatabaseSync } from "node:sqlite";
import { CredentialCipher, isSealed, parseStoreKey } from "./credential-cipher.js";
import { STATE_PREFIX } from "./session-table.js";
import { SqliteStoreError, SqliteStoreProblem } from "./sqlite-store-error.js";

/** What `meta.key_check` holds sealed: opening it proves the key is the store's. */
const KEY_CHECK_PLAINTEXT = "chatgptchatbot session store key check";
const KEY_CHECK_CONTEXT = "key-check";

/**
 * Settles how credentials are kept in this store, at open:
 * - store written with a key, no key given → KeyRequired;
 * - store written with a key, another key given → WrongKey;
 * - store written without a key, key given → every stored credential is
 *   sealed now, in one transaction, and the store is keyed from then on;
 * - no key either way → credentials stay plaintext (the file is owner-only).
 *
 * @param keyText the base64 text of CHATBOT_STORE_KEY, or undefined.
 * @returns the cipher to seal and open credentials with, or undefined.
 */
export function applyStoreKey({
  db,
  file,
  keyText,
}: {
  db: DatabaseSync;
  file: string;
  keyText: string | undefined;
}): CredentialCipher | undefined {
  const check = db.prepare("SELECT value FROM meta WHERE key = 'key_check'").get() as { value: Uint8Array } | undefined;
  if (keyText === undefined || keyText.trim() === "") {
    if (check !== undefined) {
      throw new SqliteStoreError({
        problem: SqliteStoreProblem.KeyRequired,
        file,
        detail:
          "its credentials are encrypted, but CHATBOT_STORE_KEY is not set; set it to the key the store was written with",
      });
    }
    return undefined;
  }
  const parsed = parseStoreKey(keyText);
  if (!parsed.ok) throw new SqliteStoreError({ problem: SqliteStoreProblem.BadKey, file, detail: parsed.reason });
  const cipher = new CredentialCipher({ key: parsed.key });
  if (check !== undefined) {
    if (cipher.open({ sealed: check.value, context: KEY_CHECK_CONTEXT }) !== KEY_CHECK_PLAINTEXT) {
      throw new SqliteStoreError({
        problem: SqliteStoreProblem.WrongKey,
        file,
        detail: "CHATBOT_STORE_KEY is not the key this store was written with",
      });
    }
    return cipher;
  }
  sealExisting({ db, cipher });
  return cipher;
}

function sealExisting({ db, cipher }: { db: DatabaseSync; cipher: CredentialCipher }): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    const rows = db.prepare("SELECT sid, id, credentials FROM sessions WHERE credentials IS NOT NULL").all() as Array<{
      sid: number;
      id: string;
      credentials: Uint8Array;
    }>;
    const update = db.prepare("UPDATE sessions SET credentials = ? WHERE sid = ?");
    for (const row of rows) {
      if (isSealed(row.credentials)) continue;
      const plaintext = Buffer.from(row.credentials).toString("utf8");
      update.run(cipher.seal({ plaintext, context: row.id }), row.sid);
    }
    // Saved state values (the default session's renewed credential) are sealed too.
    const states = db
      .prepare("SELECT key, value FROM meta WHERE key >= ? AND key < ?")
      .all(STATE_PREFIX, `${STATE_PREFIX}\uffff`) as Array<{ key: string; value: Uint8Array }>;
    const updateState = db.prepare("UPDATE meta SET value = ? WHERE key = ?");
    for (const state of states) {
      if (isSealed(state.value)) continue;
      updateState.run(
        cipher.seal({ plaintext: Buffer.from(state.value).toString("utf8"), context: state.key }),
        state.key,
      );
    }
    db.prepare("INSERT INTO meta (key, value) VALUES ('key_check', ?)").run(
      cipher.seal({ plaintext: KEY_CHECK_PLAINTEXT, context: KEY_CHECK_CONTEXT }),
    );
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
