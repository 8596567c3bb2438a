import type { ConversationState, HistoryEntry, SessionConfig } from "@chatgptchatbot/core";
import type { CredentialCipher } from "./credential-cipher.js";
import { isSealed } from "./credential-cipher.js";

/**
 * Reading a row back: the file is outside input (copied around, edited,
 * damaged), so every field is checked before it becomes a record.
 */

/** Longer than any kind name the server registers; a stored one past it is damage. */
const MAX_KIND_CHARS = 64;

type StoredConfig = Omit<SessionConfig, "credentials" | "serverCredential">;

/** @returns the config without its credentials, or undefined when the JSON is not one. */
export function decodeConfig(json: string): StoredConfig | undefined {
  const value = parseJson(json);
  if (!isObject(value)) return undefined;
  const { kind, version, model, baseUrl, temperature, maxTokens, filter } = value;
  // Any registered kind may be stored, so the kind is checked for shape only (the backend resolver knows the rest).
  if (typeof kind !== "string" || kind === "" || kind.length > MAX_KIND_CHARS) return undefined;
  if (typeof version !== "number" || !Number.isInteger(version)) return undefined;
  if (!optional(model, "string") || !optional(baseUrl, "string") || !optional(temperature, "number")) return undefined;
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) return undefined;
  if (typeof filter !== "boolean") return undefined;
  return {
    kind,
    version,
    model: model as string | undefined,
    baseUrl: baseUrl as string | undefined,
    temperature: temperature as number | undefined,
    maxTokens,
    filter,
  };
}

/** @returns the credentials, or undefined when they cannot be opened or are not a non-empty string list. */
export function decodeCredentials({
  stored,
  context,
  cipher,
}: {
  stored: Uint8Array;
  context: string;
  cipher: CredentialCipher | undefined;
}): string[] | undefined {
  let json: string | undefined;
  if (isSealed(stored)) json = cipher?.open({ sealed: stored, context });
  else json = Buffer.from(stored).toString("utf8");
  if (json === undefined) return undefined;
  const value = parseJson(json);
  if (!Array.isArray(value) || value.length === 0 || !value.every((c) => typeof c === "string" && c !== "")) {
    return undefined;
  }
  return value as string[];
}

export function decodeConversation(json: string): ConversationState | undefined {
  const value = parseJson(json);
  if (!isObject(value)) return undefined;
  for (const field of Object.values(value)) {
    if (field !== null && !["string", "number", "boolean"].includes(typeof field)) return undefined;
  }
  return value as ConversationState;
}

/** A journal row's new messages, as written: each field named, nothing else of the entry. */
export function encodeEntries(entries: readonly HistoryEntry[]): string {
  return JSON.stringify(entries.map(({ role, content, tokens }) => ({ role, content, tokens })));
}

/** @returns a journal row's new messages, or undefined when they are not a list of user and assistant messages. */
export function decodeEntries(json: string): HistoryEntry[] | undefined {
  const value = parseJson(json);
  if (!Array.isArray(value)) return undefined;
  const entries: HistoryEntry[] = [];
  for (const item of value) {
    if (!isObject(item)) return undefined;
    const { role, content, tokens } = item;
    if (role !== "user" && role !== "assistant") return undefined;
    if (typeof content !== "string" || !Number.isSafeInteger(tokens) || (tokens as number) < 0) return undefined;
    entries.push({ role, content, tokens: tokens as number });
  }
  return entries;
}

function parseJson(json: string): unknown {
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
