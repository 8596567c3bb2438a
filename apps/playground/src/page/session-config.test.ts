import { describe, expect, it } from "vitest";
import { parseVersion, sessionConfigJson } from "./session-config.js";

describe("sessionConfigJson", () => {
  it("puts an API key under api_key for version 3", () => {
    const json = sessionConfigJson({
      version: 3,
      credential: " sk-test-abc ",
      model: "gpt-4o-mini",
      baseUrl: "http://127.0.0.1:9/v1",
    });
    expect(JSON.parse(json)).toEqual({
      version: 3,
      api_key: "sk-test-abc",
      model: "gpt-4o-mini",
      base_url: "http://127.0.0.1:9/v1",
    });
  });

  it("puts an access token under access_token for version 1", () => {
    expect(JSON.parse(sessionConfigJson({ version: 1, credential: "test-token", model: "", baseUrl: "" }))).toEqual({
      version: 1,
      access_token: "test-token",
    });
  });

  it("leaves empty fields out so the server's defaults apply", () => {
    expect(sessionConfigJson({ version: 3, credential: "  ", model: " ", baseUrl: "" })).toBe('{"version":3}');
  });
});

describe("parseVersion", () => {
  it("reads 1 as the access-token backend and anything else as the API-key backend", () => {
    expect(parseVersion("1")).toBe(1);
    expect(parseVersion("3")).toBe(3);
    expect(parseVersion("")).toBe(3);
  });
});
