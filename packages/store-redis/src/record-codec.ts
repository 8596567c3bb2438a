import type { BackendKind, ConversationState, HistoryEntry, SessionConfig, SessionRecord } from "@chatgptchatbot/core";

/**
 * Seals a session's credentials at rest. The shape of store-sqlite's
 * CredentialCipher (AES-256-GCM, the session id bound as associated data),
 * so the program hands the same cipher, built from `CHATBOT_STORE_KEY`, to
 * whichever store it opens.
 */
export interface CredentialSealer {
  seal(input: { plaintext: string; context: string }): Uint8Array;
  /** @returns undefined when the value was not sealed with this key and context. */
  open(input: { sealed: Uint8Array; context: string }): string | undefined;
}

/** The server's default credentials by backend kind: records refer to them and never contain them. */
export type ServerCredentials = { readonly [kind: BackendKind]: readonly string[] | undefined };

/** How a stored credentials field starts when it is sealed (plaintext ones are a JSON list, starting with `[`). */
const SEALED = "sealed:";

type StoredConfig = Omit<SessionConfig, "credentials">;

export interface CodecOptions {
  readonly cipher: CredentialSealer | undefined;
  readonly serverCredentials: ServerCredentials;
}

/** A record as the hash's field/value pairs, history apart. */
export function encodeFields(record: SessionRecord, { cipher }: CodecOptions): string[] {
  const { credentials, ...config } = record.config;
  return [
    "config",
    JSON.stringify(config satisfies StoredConfig),
    "credentials",
    encodeCredentials({ credentials: config.serverCredential ? undefined : credentials, id: record.id, cipher }),
    "initialPrompt",
    record.initialPrompt,
    "initialResponse",
    record.initialResponse,
    "systemTokens",
    String(record.systemTokens),
    "conversation",
    encodeConversation(record.conversation),
    "createdAt",
    String(record.createdAt),
    "conversationStartedAt",
    String(record.conversationStartedAt),
    "lastActiveAt",
    String(record.lastActiveAt),
    "fence",
    "0",
  ];
}

export function encodeEntry(entry: HistoryEntry): string {
  return JSON.stringify([entry.role, entry.content, entry.tokens]);
}

export function encodeConversation(conversation: ConversationState | null): string {
  return JSON.stringify(conversation);
}

function encodeCredentials({
  credentials,
  id,
  cipher,
}: {
  credentials: readonly string[] | undefined;
  id: string;
  cipher: CredentialSealer | undefined;
}): string {
  if (credentials === undefined) return ""; // the server's: never written
  const json = JSON.stringify(credentials);
  if (cipher === undefined) return json;
  return SEALED + Buffer.from(cipher.seal({ plaintext: json, context: id })).toString("base64");
}

/**
 * A stored session back into a record. Redis is outside input (shared,
 * written by other versions or by hand), so every field is checked.
 *
 * @returns the record, or a reason (without any credential) it cannot be read.
 */
export function decodeRecord(
  id: string,
  fields: readonly string[],
  history: readonly string[],
  { cipher, serverCredentials }: CodecOptions,
): { ok: true; record: SessionRecord } | { ok: false; reason: string } {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) hash.set(fields[i]!, fields[i + 1]!);
  const config = parseJson(hash.get("config"));
  if (!isObject(config) || typeof config.kind !== "string" || typeof config.serverCredential !== "boolean") {
    return { ok: false, reason: "config unreadable" };
  }
  const { maxTokens, filter, model, baseUrl, temperature } = config;
  if (typeof maxTokens !== "number" || typeof filter !== "boolean") return { ok: false, reason: "config unreadable" };
  if (!optional(model, "string") || !optional(baseUrl, "string") || !optional(temperature, "number")) {
    return { ok: false, reason: "config unreadable" };
  }
  const credentials = config.serverCredential
    ? serverCredentials[config.kind]
    : decodeCredentials({ stored: hash.get("credentials") ?? "", id, cipher });
  if (credentials === undefined || credentials.length === 0) {
    return {
      ok: false,
      reason: config.serverCredential ? `no server credential of kind ${config.kind}` : "credentials unreadable (key?)",
    };
  }
  const conversation = parseJson(hash.get("conversation"));
  if (conversation !== null && !isConversation(conversation)) return { ok: false, reason: "conversation unreadable" };
  const numbers = ["systemTokens", "createdAt", "conversationStartedAt", "lastActiveAt"].map((field) =>
    Number(hash.get(field)),
  );
  if (!numbers.every(Number.isFinite)) return { ok: false, reason: "timestamps unreadable" };
  const initialPrompt = hash.get("initialPrompt");
  const initialResponse = hash.get("initialResponse");
  if (initialPrompt === undefined || initialResponse === undefined) return { ok: false, reason: "prompt unreadable" };
  const entries: HistoryEntry[] = [];
  for (const stored of history) {
    const entry = parseJson(stored);
    if (!Array.isArray(entry)) return { ok: false, reason: "history unreadable" };
    const [role, content, tokens] = entry as unknown[];
    if ((role !== "user" && role !== "assistant") || typeof content !== "string" || typeof tokens !== "number") {
      return { ok: false, reason: "history unreadable" };
    }
    entries.push({ role, content, tokens });
  }
  const [systemTokens, createdAt, conversationStartedAt, lastActiveAt] = numbers as [number, number, number, number];
  return {
    ok: true,
    record: {
      id,
      config: { ...(config as unknown as StoredConfig), credentials: [...credentials] },
      initialPrompt,
      initialResponse,
      systemTokens,
      history: entries,
      conversation,
      createdAt,
      conversationStartedAt,
      lastActiveAt,
    },
  };
}

function decodeCredentials({
  stored,
  id,
  cipher,
}: {
  stored: string;
  id: string;
  cipher: CredentialSealer | undefined;
}): string[] | undefined {
  let json: string | undefined = stored;
  if (stored.startsWith(SEALED)) {
    json = cipher?.open({ sealed: Buffer.from(stored.slice(SEALED.length), "base64"), context: id });
  }
  const value = parseJson(json);
  if (!Array.isArray(value) || !value.every((c) => typeof c === "string" && c !== "")) return undefined;
  return value as string[];
}

function isConversation(value: unknown): value is ConversationState {
  return (
    isObject(value) &&
    Object.values(value).every((field) => field === null || ["string", "number", "boolean"].includes(typeof field))
  );
}

function parseJson(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optional(value: unknown, type: "string" | "number"): boolean {
  return value === undefined || typeof value === type;
}
