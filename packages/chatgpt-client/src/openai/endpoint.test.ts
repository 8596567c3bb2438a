import { describe, expect, it } from "vitest";
import { resolveOpenAIEndpoint } from "./endpoint.js";

describe("resolveOpenAIEndpoint", () => {
  it("accepts a base URL and the full chat-completions URL alike", () => {
    for (const url of [
      "https://api.example.com/v1",
      "https://api.example.com/v1/",
      "https://api.example.com/v1/chat/completions",
      "https://api.example.com/v1/chat/completions/",
      " https://api.example.com/v1 ",
    ]) {
      expect(resolveOpenAIEndpoint(url)).toEqual({
        baseURL: "https://api.example.com/v1",
        chatCompletionsUrl: "https://api.example.com/v1/chat/completions",
      });
    }
  });

  it("keeps a path prefix and a query string", () => {
    expect(resolveOpenAIEndpoint("http://127.0.0.1:8080/openai/v1/chat/completions?api-version=2024-10-21")).toEqual({
      baseURL: "http://127.0.0.1:8080/openai/v1",
      chatCompletionsUrl: "http://127.0.0.1:8080/openai/v1/chat/completions?api-version=2024-10-21",
    });
  });

  it("rejects what is not an http(s) URL", () => {
    expect(() => resolveOpenAIEndpoint("ftp://example.com/v1")).toThrow(TypeError);
    expect(() => resolveOpenAIEndpoint("not a url")).toThrow(TypeError);
  });
});
