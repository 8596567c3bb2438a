/** OpenAI's own API, used when neither the session nor the server names one. */
export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/** Where the API-key backend sends chat completions. */
export interface OpenAIEndpoint {
  /** The base URL, as logged: no trailing slash, no query. */
  readonly baseURL: string;
  /**
   * Where a chat completion is posted: `{baseURL}/chat/completions`, with the
   * given URL's query string (for example Azure's `api-version`).
   */
  readonly chatCompletionsUrl: string;
}

const CHAT_COMPLETIONS = /\/chat\/completions\/*$/;

/**
 * Reads an OpenAI-compatible endpoint given either as a base URL
 * (`https://host/v1`) or as the full chat-completions URL
 * (`https://host/v1/chat/completions`, how the old service's `API_URL` was
 * set). Trailing slashes are ignored; a query string is kept.
 *
 * @throws TypeError when `url` is not an http(s) URL.
 */
export function resolveOpenAIEndpoint(url: string): OpenAIEndpoint {
  const parsed = new URL(url.trim());
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`expected an http(s) URL, got ${parsed.protocol}`);
  }
  const path = parsed.pathname.replace(CHAT_COMPLETIONS, "").replace(/\/+$/, "");
  const baseURL = `${parsed.origin}${path}`;
  return { baseURL, chatCompletionsUrl: `${baseURL}/chat/completions${parsed.search}` };
}
