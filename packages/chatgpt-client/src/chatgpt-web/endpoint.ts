import { ChatbotError } from "@chatgptchatbot/core";

/**
 * `{base}/conversation`, from a base URL with or without a trailing slash or the `/conversation` itself.
 *
 * @throws InvalidArgument for a base that is not an http(s) URL.
 */
export function conversationUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base.trim());
  } catch (error) {
    throw ChatbotError.invalidArgument("base_url is not a valid http(s) URL", error);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw ChatbotError.invalidArgument("base_url must be an http or https URL");
  const path = url.pathname.replace(/\/+$/, "").replace(/\/conversation$/, "");
  return `${url.origin}${path}/conversation${url.search}`;
}
