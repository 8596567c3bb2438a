/**
 * The NewSession `config` JSON the page sends, built from the form. The
 * credential goes into this string and nowhere else.
 */

/** 3 = an OpenAI-compatible API with an API key; 1 = ChatGPT web with an access token. */
export type PlaygroundVersion = 1 | 3;

export interface SessionConfigFields {
  readonly version: PlaygroundVersion;
  /** API key (version 3) or access token (version 1); empty: the server's default credential. */
  readonly credential: string;
  /** Empty: the server's default model. */
  readonly model: string;
  /** Empty: the server's configured upstream. */
  readonly baseUrl: string;
}

/**
 * The config string for NewSession: `{"version":3,"api_key":"..."}` or
 * `{"version":1,"access_token":"..."}`, plus `model` and `base_url` when
 * given. Fields left empty are left out, so the server's defaults apply.
 */
export function sessionConfigJson({ version, credential, model, baseUrl }: SessionConfigFields): string {
  const config: Record<string, string | number> = { version };
  const secret = credential.trim();
  if (secret !== "") config[version === 3 ? "api_key" : "access_token"] = secret;
  if (model.trim() !== "") config.model = model.trim();
  if (baseUrl.trim() !== "") config.base_url = baseUrl.trim();
  return JSON.stringify(config);
}

/** Reads the version select's value; anything but "1" is the API-key backend. */
export function parseVersion(value: string): PlaygroundVersion {
  return value === "1" ? 1 : 3;
}
