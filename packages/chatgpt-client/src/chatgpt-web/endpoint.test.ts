import { describe, expect, it } from "vitest";
import { conversationUrl } from "./endpoint.js";

describe("conversationUrl", () => {
  it("appends /conversation to a base URL given in any of its forms", () => {
    for (const base of [
      "https://proxy.example/api",
      "https://proxy.example/api/",
      "https://proxy.example/api/conversation",
    ]) {
      expect(conversationUrl(base)).toBe("https://proxy.example/api/conversation");
    }
    expect(() => conversationUrl("file:///etc/passwd")).toThrow(/http or https/);
  });
});
