import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { MAX_ACCESS_TOKENS_FILE_BYTES } from "./access-tokens.js";
import { configReference, configReferenceMarkdown, defaultConfig, readConfig } from "./config.js";

describe("readConfig", () => {
  it("has the documented defaults", () => {
    expect(defaultConfig).toEqual({
      accessTokenCooldownMs: 75_000,
      apiKeyCooldownMs: 15_000,
      maxSessions: 10,
      renewIntervalMs: 900_000,
      sweepIntervalMs: 60_000,
      maxTokens: 3000,
      maxPromptChars: 4000,
      maxInitialPromptChars: 10_000,
      firstSegmentMinLength: 20,
      maxSegmentLength: 160,
      apiUrl: undefined,
      chatgptBaseUrl: undefined,
      model: undefined,
      defaultApiKeys: [],
      defaultAccessTokens: [],
      allowedUpstreamHosts: [],
      requestTimeoutMs: 60_000,
      maxRetries: 2,
      grpcReflection: false,
      corsOrigins: ["*"],
      logLevel: "info",
      shutdownTimeoutMs: 10_000,
      idleGcAfterMs: 30_000,
      httpBodyLimitBytes: 1_048_576,
      metrics: true,
      authTokens: [],
      authTokensFile: undefined,
      metricsPublic: false,
      allowedHosts: [],
      logFormat: undefined,
      store: { kind: "sqlite", file: undefined },
      storeKey: undefined,
      redisPrefix: "chatgptchatbot:",
    });
  });

  it("reads every variable", () => {
    const config = readConfig({
      CHATGPT_COOLDOWN: "0",
      CHATGPT_V3_COOLDOWN: "2.5",
      CHATBOT_MAX_SESSIONS: "100",
      CHATBOT_RENEW_INTERVAL: "60",
      CHATBOT_SWEEP_INTERVAL: "5",
      CHATBOT_MAX_TOKENS: "8000",
      CHATBOT_MAX_PROMPT_CHARS: "500",
      CHATBOT_MAX_INITIAL_PROMPT_CHARS: "20000",
      CHATBOT_FIRST_SEGMENT_MIN_LENGTH: "8",
      CHATBOT_MAX_SEGMENT_LENGTH: "60",
      API_URL: "http://127.0.0.1:11434/v1/chat/completions",
      CHATGPT_BASE_URL: "http://127.0.0.1:8080/backend-api",
      CHATGPT_MODEL: "qwen2.5",
      OPENAI_API_KEY: "sk-test-one",
      CHATGPT_ACCESS_TOKENS: "tok-test-1, tok-test-2",
      CHATBOT_ALLOWED_UPSTREAM_HOSTS: "api.deepseek.com,127.0.0.1:11434",
      CHATBOT_REQUEST_TIMEOUT: "30",
      CHATBOT_MAX_RETRIES: "0",
      GRPC_REFLECTION: "true",
      CHATBOT_CORS_ORIGINS: "http://localhost:5173,https://app.example",
      LOG_LEVEL: "DEBUG",
      CHATBOT_SHUTDOWN_TIMEOUT: "3",
      CHATBOT_IDLE_GC_AFTER: "0",
      CHATBOT_HTTP_BODY_LIMIT: "1024",
      CHATBOT_METRICS: "false",
      CHATBOT_AUTH_TOKENS: "test-server-token-0001, test-server-token-0002",
      CHATBOT_METRICS_PUBLIC: "true",
      CHATBOT_ALLOWED_HOSTS: "chatbot.example.com,*.internal.example",
      LOG_FORMAT: "Pretty",
      CHATBOT_STORE: "sqlite:/var/lib/chatgptchatbot/sessions.db",
      CHATBOT_STORE_KEY: Buffer.alloc(32, 3).toString("base64"),
    });
    expect(config).toMatchObject({
      accessTokenCooldownMs: 0,
      apiKeyCooldownMs: 2_500,
      maxSessions: 100,
      renewIntervalMs: 60_000,
      sweepIntervalMs: 5_000,
      maxTokens: 8000,
      maxPromptChars: 500,
      maxInitialPromptChars: 20_000,
      firstSegmentMinLength: 8,
      maxSegmentLength: 60,
      apiUrl: "http://127.0.0.1:11434/v1/chat/completions",
      chatgptBaseUrl: "http://127.0.0.1:8080/backend-api",
      model: "qwen2.5",
      defaultApiKeys: ["sk-test-one"],
      defaultAccessTokens: ["tok-test-1", "tok-test-2"],
      allowedUpstreamHosts: ["api.deepseek.com", "127.0.0.1:11434"],
      requestTimeoutMs: 30_000,
      maxRetries: 0,
      grpcReflection: true,
      corsOrigins: ["http://localhost:5173", "https://app.example"],
      logLevel: "debug",
      shutdownTimeoutMs: 3_000,
      idleGcAfterMs: 0,
      httpBodyLimitBytes: 1024,
      metrics: false,
      authTokens: ["test-server-token-0001", "test-server-token-0002"],
      metricsPublic: true,
      allowedHosts: ["chatbot.example.com", "*.internal.example"],
      logFormat: "pretty",
      store: { kind: "sqlite", file: "/var/lib/chatgptchatbot/sessions.db" },
      storeKey: Buffer.alloc(32, 3).toString("base64"),
    });
  });

  it("prefers the list variable over its single alias", () => {
    expect(readConfig({ OPENAI_API_KEYS: "sk-test-a,sk-test-b", OPENAI_API_KEY: "sk-test-c" }).defaultApiKeys).toEqual([
      "sk-test-a",
      "sk-test-b",
    ]);
  });

  it.each([
    ["CHATGPT_COOLDOWN", "soon", 'CHATGPT_COOLDOWN: expected a number of seconds from 0 to 2147483, got "soon"'],
    ["CHATGPT_V3_COOLDOWN", "-1", 'CHATGPT_V3_COOLDOWN: expected a number of seconds from 0 to 2147483, got "-1"'],
    [
      "CHATBOT_SHUTDOWN_TIMEOUT",
      "3000000",
      'CHATBOT_SHUTDOWN_TIMEOUT: expected a number of seconds from 0 to 2147483, got "3000000"',
    ],
    ["CHATBOT_CORS_ORIGINS", " , ", 'CHATBOT_CORS_ORIGINS: expected a comma-separated list, got " , "'],
    [
      "CHATBOT_CORS_ORIGINS",
      "localhost:3000",
      'CHATBOT_CORS_ORIGINS: expected * or origins like https://app.example:8080, got "localhost:3000"',
    ],
    [
      "CHATBOT_CORS_ORIGINS",
      "https://app.example/path",
      'CHATBOT_CORS_ORIGINS: expected * or origins like https://app.example:8080, got "https://app.example/path"',
    ],
    [
      "CHATBOT_ALLOWED_UPSTREAM_HOSTS",
      "https://api.example.com",
      'CHATBOT_ALLOWED_UPSTREAM_HOSTS: expected hosts like api.example.com or 127.0.0.1:8080, got "https://api.example.com"',
    ],
    ["CHATBOT_MAX_SESSIONS", "0", 'CHATBOT_MAX_SESSIONS: expected a whole number >= 1, got "0"'],
    ["CHATBOT_MAX_SESSIONS", "1.5", 'CHATBOT_MAX_SESSIONS: expected a whole number >= 1, got "1.5"'],
    ["API_URL", "localhost:8080", 'API_URL: expected an http(s) URL, got "localhost:8080"'],
    ["GRPC_REFLECTION", "maybe", 'GRPC_REFLECTION: expected true or false, got "maybe"'],
    ["LOG_LEVEL", "loud", 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [
      "CHATBOT_FIRST_SEGMENT_MIN_LENGTH",
      "0",
      'CHATBOT_FIRST_SEGMENT_MIN_LENGTH: expected a whole number from 1 to 100000, got "0"',
    ],
    [
      "CHATBOT_MAX_SEGMENT_LENGTH",
      "39",
      'CHATBOT_MAX_SEGMENT_LENGTH: expected a whole number from 40 to 100000, got "39"',
    ],
    [
      "CHATBOT_MAX_SEGMENT_LENGTH",
      "1e999",
      'CHATBOT_MAX_SEGMENT_LENGTH: expected a whole number from 40 to 100000, got "1e999"',
    ],
    [
      "CHATBOT_MAX_SEGMENT_LENGTH",
      "99999999999999999999",
      'CHATBOT_MAX_SEGMENT_LENGTH: expected a whole number from 40 to 100000, got "99999999999999999999"',
    ],
    ["CHATBOT_MAX_PROMPT_CHARS", "0", 'CHATBOT_MAX_PROMPT_CHARS: expected a whole number >= 1, got "0"'],
    [
      "OPENAI_API_KEYS",
      "sk-test-a,sk-test-ключ",
      "OPENAI_API_KEYS: credential 2 must be visible ASCII only (no spaces, control or non-ASCII characters: it is sent in an HTTP header)",
    ],
    [
      "OPENAI_API_KEY",
      "sk-test-nul\u0000x",
      "OPENAI_API_KEY: credential 1 must be visible ASCII only (no spaces, control or non-ASCII characters: it is sent in an HTTP header)",
    ],
    [
      "CHATGPT_ACCESS_TOKENS",
      "tok-test a",
      "CHATGPT_ACCESS_TOKENS: credential 1 must be visible ASCII only (no spaces, control or non-ASCII characters: it is sent in an HTTP header)",
    ],
    ["CHATGPT_ACCESS_TOKEN", "t".repeat(5000), "CHATGPT_ACCESS_TOKEN: credential 1 must be at most 4096 characters"],
    [
      "CHATBOT_AUTH_TOKENS",
      "test-server-token-0001,short",
      "CHATBOT_AUTH_TOKENS: token 2 is shorter than 16 characters",
    ],
    [
      "CHATBOT_AUTH_TOKENS",
      "test-server token-0001",
      "CHATBOT_AUTH_TOKENS: token 1 has characters other than visible ASCII",
    ],
    [
      "CHATBOT_ALLOWED_HOSTS",
      "chatbot.example.com:443",
      'CHATBOT_ALLOWED_HOSTS: expected * or names like chatbot.example.com or *.example.com (no port), got "chatbot.example.com:443"',
    ],
    [
      "CHATBOT_ALLOWED_HOSTS",
      "https://chatbot.example.com",
      'CHATBOT_ALLOWED_HOSTS: expected * or names like chatbot.example.com or *.example.com (no port), got "https://chatbot.example.com"',
    ],
    ["CHATBOT_METRICS_PUBLIC", "maybe", 'CHATBOT_METRICS_PUBLIC: expected true or false, got "maybe"'],
    ["LOG_FORMAT", "yaml", 'LOG_FORMAT: expected json or pretty, got "yaml"'],
    ["CHATBOT_STORE", "file.db", 'CHATBOT_STORE: expected memory, sqlite:PATH or redis://…, got "file.db"'],
    [
      "CHATBOT_STORE_KEY",
      "c2hvcnQ=",
      "CHATBOT_STORE_KEY: must decode to 32 bytes, got 5 (make one with `openssl rand -base64 32`)",
    ],
  ])("refuses %s=%s with a one-line message naming it", (name, value, message) => {
    let caught: unknown;
    try {
      readConfig({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as ConfigError).message).toBe(message);
    expect((caught as ConfigError).message).not.toContain("\n");
  });

  it("allows any origin by default, but only the same origin when the server holds a default credential", () => {
    expect(readConfig({}).corsOrigins).toEqual(["*"]);
    expect(readConfig({ OPENAI_API_KEY: "sk-test-server" }).corsOrigins).toEqual([]);
    expect(readConfig({ CHATGPT_ACCESS_TOKEN: "tok-test-server" }).corsOrigins).toEqual([]);
    expect(readConfig({ OPENAI_API_KEY: "sk-test-server", CHATBOT_CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(readConfig({ CHATBOT_CORS_ORIGINS: "http://127.0.0.1:5173/, https://[::1]:8443" }).corsOrigins).toEqual([
      "http://127.0.0.1:5173/",
      "https://[::1]:8443",
    ]);
  });

  it("accepts host allowlists of names, IPv4 and [IPv6], with ports", () => {
    expect(
      readConfig({ CHATBOT_ALLOWED_UPSTREAM_HOSTS: "api.deepseek.com, 127.0.0.1:11434,[::1]:8080" })
        .allowedUpstreamHosts,
    ).toEqual(["api.deepseek.com", "127.0.0.1:11434", "[::1]:8080"]);
  });

  describe("CHATBOT_AUTH_TOKENS_FILE", () => {
    const TOKENS = "# operators' tokens\ntest-server-token-file-1\n\n  test-server-token-file-2\r\n";

    it("reads one token a line", () => {
      const read: string[] = [];
      const config = readConfig(
        { CHATBOT_AUTH_TOKENS_FILE: "/run/secrets/tokens" },
        {
          readFile: (path) => {
            read.push(path);
            return TOKENS;
          },
        },
      );
      expect(read).toEqual(["/run/secrets/tokens"]);
      expect(config.authTokens).toEqual(["test-server-token-file-1", "test-server-token-file-2"]);
      expect(config.authTokensFile).toBe("/run/secrets/tokens");
    });

    it("reads a real file from disk, and refuses a missing one in one line", () => {
      const dir = mkdtempSync(join(tmpdir(), "auth-tokens-"));
      try {
        const path = join(dir, "tokens");
        writeFileSync(path, TOKENS);
        expect(readConfig({ CHATBOT_AUTH_TOKENS_FILE: path }).authTokens).toHaveLength(2);
        expect(() => readConfig({ CHATBOT_AUTH_TOKENS_FILE: join(dir, "missing") })).toThrow(
          `CHATBOT_AUTH_TOKENS_FILE: cannot read ${JSON.stringify(join(dir, "missing"))}: ENOENT`,
        );
        writeFileSync(path, "x".repeat(MAX_ACCESS_TOKENS_FILE_BYTES + 1));
        expect(() => readConfig({ CHATBOT_AUTH_TOKENS_FILE: path })).toThrow(
          /cannot read .*larger than 1048576 bytes$/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each([
      ["no token", "# nothing yet\n\n", /holds no token$/],
      [
        "a bad token, named by position only",
        "test-server-token-file-1\nshort-secret\n",
        /^CHATBOT_AUTH_TOKENS_FILE: token 2 of the file is shorter than 16 characters$/,
      ],
    ])("refuses a file with %s", (_name, text, message) => {
      expect(() => readConfig({ CHATBOT_AUTH_TOKENS_FILE: "/tokens" }, { readFile: () => text })).toThrow(message);
    });

    it("refuses both variables at once", () => {
      expect(() =>
        readConfig(
          { CHATBOT_AUTH_TOKENS: "test-server-token-0001", CHATBOT_AUTH_TOKENS_FILE: "/tokens" },
          { readFile: () => TOKENS },
        ),
      ).toThrow("CHATBOT_AUTH_TOKENS_FILE: set either CHATBOT_AUTH_TOKENS or CHATBOT_AUTH_TOKENS_FILE, not both");
    });
  });

  it("turns the host check off with *", () => {
    expect(readConfig({ CHATBOT_ALLOWED_HOSTS: "*" }).allowedHosts).toEqual(["*"]);
  });

  it("names the alias that was actually read", () => {
    expect(() => readConfig({ OPENAI_API_KEY: "sk-test-a", CHATBOT_REQUEST_TIMEOUT: "0" })).toThrow(
      /^CHATBOT_REQUEST_TIMEOUT: /,
    );
  });

  it("documents every variable with its default", () => {
    const reference = configReference();
    const table = configReferenceMarkdown();
    for (const name of [
      "CHATGPT_COOLDOWN",
      "CHATGPT_V3_COOLDOWN",
      "GRPC_REFLECTION",
      "API_URL",
      "CHATGPT_BASE_URL",
      "CHATGPT_MODEL",
      "CHATBOT_MAX_SESSIONS",
      "CHATBOT_RENEW_INTERVAL",
      "OPENAI_API_KEY",
      "OPENAI_API_KEYS",
      "LOG_LEVEL",
      "HTTPS_PROXY",
      "NO_PROXY",
    ]) {
      expect(reference).toMatch(new RegExp(`\\b${name}\\b[^\\n]*\\[default: `)); // named on a line with its default
      expect(table).toContain(`\`${name}\``);
    }
    expect(reference).toContain("CHATGPT_COOLDOWN  [default: 75]");
  });
});
