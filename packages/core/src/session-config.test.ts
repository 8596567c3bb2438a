import { describe, expect, it } from "vitest";
import { ChatbotError, ErrorCode } from "./errors.js";
import { parseSessionConfig } from "./session-config.js";

const PREFIX = "version & access_token|api_key is required: ";

function reason(raw: string, defaults = {}): string {
  try {
    parseSessionConfig(raw, defaults);
  } catch (error) {
    expect(error).toBeInstanceOf(ChatbotError);
    expect((error as ChatbotError).code).toBe(ErrorCode.InvalidArgument);
    expect((error as ChatbotError).message.startsWith(PREFIX)).toBe(true);
    return (error as ChatbotError).message.slice(PREFIX.length);
  }
  throw new Error(`expected ${raw} to be refused`);
}

describe("parseSessionConfig", () => {
  it("reads the old clients' configs", () => {
    expect(parseSessionConfig('{"version": 3, "api_key": "sk-test-abc"}')).toEqual({
      kind: "api-key",
      version: 3,
      credentials: ["sk-test-abc"],
      serverCredential: false,
      model: undefined,
      baseUrl: undefined,
      temperature: undefined,
      maxTokens: 3000,
      filter: true,
    });
    const v1 = parseSessionConfig('{"version": 1, "access_token": "eyJ-test-token"}');
    expect(v1.version).toBe(1);
    expect(v1.kind).toBe("access-token");
    expect(v1.credentials).toEqual(["eyJ-test-token"]);
    expect(v1.filter).toBe(false);
  });

  it("accepts either credential key for either version, and a numeric-string version", () => {
    expect(parseSessionConfig('{"version": 1, "api_key": "tok-test"}').credentials).toEqual(["tok-test"]);
    expect(parseSessionConfig('{"version": "3", "access_token": "sk-test-x"}').version).toBe(3);
  });

  it("reads the optional fields and ignores unknown ones", () => {
    const config = parseSessionConfig(
      JSON.stringify({
        version: 3,
        api_key: "sk-test-1",
        api_keys: ["sk-test-2", "sk-test-1", "sk-test-3"],
        model: "deepseek-chat",
        base_url: "http://127.0.0.1:8080/v1",
        temperature: 0.7,
        max_tokens: 1200,
        filter: false,
        proxy: "ignored",
      }),
    );
    expect(config).toMatchObject({
      credentials: ["sk-test-1", "sk-test-2", "sk-test-3"],
      model: "deepseek-chat",
      baseUrl: "http://127.0.0.1:8080/v1",
      temperature: 0.7,
      maxTokens: 1200,
      filter: false,
    });
  });

  it.each([
    ["not json", /^config is not valid JSON/],
    ["[1, 2]", /^config must be a JSON object, got an array$/],
    ['"a string"', /^config must be a JSON object, got a string$/],
    ["null", /^config must be a JSON object, got null$/],
    ['{"api_key": "sk-test-a"}', /^config has no version/],
    ['{"version": 2, "api_key": "sk-test-a"}', /^unsupported version 2: use 1 \(access token\) or 3 \(API key\)$/],
    ['{"version": "three", "api_key": "sk-test-a"}', /^unsupported version "three"/],
    ['{"version": 3}', /^config has no api_key$/],
    ['{"version": 1}', /^config has no access_token$/],
    ['{"version": 3, "api_key": 42}', /^api_key must be a string, got a number$/],
    ['{"version": 3, "api_key": "sk test"}', /^api_key must be visible ASCII only/],
    ['{"version": 3, "api_key": "sk-test-nul\\u0000x"}', /^api_key must be visible ASCII only/],
    ['{"version": 3, "api_key": "sk-test-ключ"}', /^api_key must be visible ASCII only/],
    ['{"version": 1, "access_token": "tok-test\\r\\nX-Evil: 1"}', /^access_token must be visible ASCII only/],
    ['{"version": 3, "api_key": " "}', /^api_key must not be empty or only whitespace$/],
    ['{"version": 1, "access_token": "\\t\\n"}', /^access_token must not be empty or only whitespace$/],
    [`{"version": 3, "api_key": "${"k".repeat(4_097)}"}`, /^api_key must be at most 4096 characters$/],
    ['{"version": 3, "api_keys": ["sk-test-a", "sk-test-ü"]}', /^api_keys\[1\] must be visible ASCII only/],
    [
      `{"version": 3, "api_keys": ${JSON.stringify(Array.from({ length: 65 }, (_, i) => `sk-test-${i}`))}}`,
      /^api_keys must hold at most 64 keys$/,
    ],
    [`{"version": "${"v".repeat(200_000)}"}`, /^unsupported version "v{40}…" \(200000 characters\): use 1/],
    [`{"version": "\\u0000\\r\\n"}`, /^unsupported version "\\u0000\\u000d\\u000a": use 1/],
    [`{"version": ${"[".repeat(10_000)}${"]".repeat(10_000)}}`, /^config nests deeper than 32 levels$/],
    ['{"version": [[3]], "api_key": "sk-test-a"}', /^unsupported version an array: use 1/],
    ['{"version": 3, "api_keys": ["sk-test-a", ""]}', /^api_keys must be an array of non-empty strings$/],
    ['{"version": 3, "api_keys": "sk-test-a"}', /^api_keys must be an array of non-empty strings$/],
    ['{"version": 3, "api_key": "sk-test-a", "model": 4}', /^model must be a string, got a number$/],
    ['{"version": 3, "api_key": "sk-test-a", "temperature": 3}', /^temperature must be a number from 0 to 2$/],
    ['{"version": 3, "api_key": "sk-test-a", "max_tokens": 10.5}', /^max_tokens must be a whole number$/],
    ['{"version": 3, "api_key": "sk-test-a", "max_tokens": 0}', /^max_tokens must be a number from 1 to/],
    ['{"version": 3, "api_key": "sk-test-a", "filter": "yes"}', /^filter must be true or false$/],
    ['{"version": 3, "api_key": "sk-test-a", "base_url": "not a url"}', /^base_url is not a valid URL$/],
    ['{"version": 3, "api_key": "sk-test-a", "base_url": "ftp://host/v1"}', /^base_url must be an http or https URL$/],
    ['{"version": 3, "api_key": "sk-test-a", "base_url": "http://u:p@host/v1"}', /^base_url must not carry user info$/],
    ["", /^config is empty and the server has no default credential$/],
  ])("refuses %s", (raw, expected) => {
    expect(reason(raw)).toMatch(expected);
  });

  describe("server default credentials", () => {
    const defaults = { apiKeys: ["sk-test-server"], accessTokens: ["tok-test-server"] };

    it("serve a config that has none", () => {
      expect(parseSessionConfig('{"version": 3}', defaults)).toMatchObject({
        credentials: ["sk-test-server"],
        serverCredential: true,
      });
      expect(parseSessionConfig('{"version": 1}', defaults).credentials).toEqual(["tok-test-server"]);
    });

    it("serve an empty config, API key first", () => {
      expect(parseSessionConfig("", defaults).version).toBe(3);
      expect(parseSessionConfig("", { accessTokens: ["tok-test-server"] }).version).toBe(1);
    });

    it("are never used with a client-given base_url", () => {
      expect(reason('{"version": 3, "base_url": "http://127.0.0.1:9/v1"}', defaults)).toBe(
        "a config that sets base_url must bring its own credential",
      );
    });

    it("are not used when the client brings its own", () => {
      expect(parseSessionConfig('{"version": 3, "api_key": "sk-test-own"}', defaults)).toMatchObject({
        credentials: ["sk-test-own"],
        serverCredential: false,
      });
    });
  });

  describe("upstream host allowlist", () => {
    const defaults = { allowedUpstreamHosts: ["api.deepseek.com", "127.0.0.1:8080"] };

    it("admits listed hosts, by host or host:port", () => {
      expect(
        parseSessionConfig(
          '{"version": 3, "api_key": "sk-test-a", "base_url": "https://API.deepseek.com/v1"}',
          defaults,
        ).baseUrl,
      ).toBe("https://API.deepseek.com/v1");
      expect(
        parseSessionConfig('{"version": 3, "api_key": "sk-test-a", "base_url": "http://127.0.0.1:8080/v1"}', defaults)
          .baseUrl,
      ).toBeDefined();
    });

    it("refuses other hosts", () => {
      expect(
        reason('{"version": 3, "api_key": "sk-test-a", "base_url": "http://169.254.169.254/latest"}', defaults),
      ).toBe("base_url host 169.254.169.254 is not in the server's allowlist of upstream hosts");
      expect(
        reason('{"version": 3, "api_key": "sk-test-a", "base_url": "http://127.0.0.1:9999/v1"}', defaults),
      ).toMatch(/not in the server's allowlist/);
    });
  });

  it("never echoes the config text in a JSON error (it may hold the credential)", () => {
    const raw = '{"version": 3, "api_key": sk-test-unquoted-secret-key}';
    const message = reason(raw);
    expect(message).toMatch(/^config is not valid JSON( \(error at position \d+\))?$/);
    expect(message).not.toContain("sk-test");
    expect(reason('{"version": 3, "api_key": "sk-test-unterminated')).not.toContain("sk-test");
  });

  it.each(["sk-test-nul\u0000x", "sk-test-ключ", "sk-test-secret\r\nX-Evil: 1", "sk-test-".repeat(600)])(
    "never echoes a refused credential (%#), in any field",
    (credential) => {
      for (const config of [
        { version: 3, api_key: credential },
        { version: 1, access_token: credential },
        { version: 3, api_keys: ["sk-test-fine", credential] },
      ]) {
        const message = reason(JSON.stringify(config));
        expect(message).not.toContain("sk-test");
        expect(message).toMatch(/^(api_key|access_token|api_keys\[1\]) must /);
      }
    },
  );

  it("takes the default budget from the server", () => {
    expect(parseSessionConfig('{"version": 3, "api_key": "sk-test-a"}', { maxTokens: 500 }).maxTokens).toBe(500);
  });
});
