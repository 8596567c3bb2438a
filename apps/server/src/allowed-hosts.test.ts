import { describe, expect, it } from "vitest";
import { createHostAllowlist, hostName } from "./allowed-hosts.js";

describe("hostName", () => {
  it.each([
    ["localhost:50052", "localhost"],
    ["LocalHost", "localhost"],
    ["example.com.:80", "example.com"],
    ["[::1]:50052", "[::1]"],
    ["127.0.0.1", "127.0.0.1"],
  ])("%s → %s", (host, name) => {
    expect(hostName(host)).toBe(name);
  });

  it.each(["", ":80", "a b", "evil.test:port", "[::1", "user@evil.test"])("refuses %j", (host) => {
    expect(hostName(host)).toBeUndefined();
  });
});

describe("createHostAllowlist", () => {
  const allow = createHostAllowlist({
    allowed: ["chatbot.example.com", "*.internal.example"],
    boundHosts: ["chatbot", "::"],
  })!;

  it.each([
    "localhost:50052",
    "localhost.",
    "app.localhost:9006",
    "127.0.0.1:50052",
    "10.1.2.3",
    "[::1]:50052",
    "[2001:db8::1]",
    "chatbot:50052",
    "[::]:50052",
    "chatbot.example.com",
    "api.internal.example:443",
  ])("allows %s", (host) => {
    expect(allow(host)).toBe(true);
  });

  it.each([
    "evil.test:50052",
    "localhost.evil.test",
    "evillocalhost",
    "127.0.0.1.evil.test",
    "internal.example",
    "chatbot.example.com.evil.test",
    "",
    "[not-an-ip]",
  ])("refuses %j", (host) => {
    expect(allow(host)).toBe(false);
  });

  it("is off with *", () => {
    expect(createHostAllowlist({ allowed: ["*"], boundHosts: [] })).toBeUndefined();
  });

  it("allows only the defaults and the bound name without a list", () => {
    const check = createHostAllowlist({ allowed: [], boundHosts: ["localhost"] })!;
    expect(check("localhost:1")).toBe(true);
    expect(check("chatbot")).toBe(false);
  });
});
