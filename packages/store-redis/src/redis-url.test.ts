import { describe, expect, it } from "vitest";
import { describeRedisEndpoint, parseRedisUrl, RedisUrlError } from "./redis-url.js";

describe("parseRedisUrl", () => {
  it("reads a password without a user, a port and a database", () => {
    expect(parseRedisUrl("redis://:secret@redis.internal:6380/2")).toEqual({
      host: "redis.internal",
      port: 6380,
      username: undefined,
      password: "secret",
      db: 2,
      tls: false,
    });
  });

  it("reads an ACL user, percent-encoded characters, TLS and the defaults", () => {
    expect(parseRedisUrl("rediss://bot:p%40ss%3Aw0rd@10.0.0.5")).toEqual({
      host: "10.0.0.5",
      port: 6379,
      username: "bot",
      password: "p@ss:w0rd",
      db: 0,
      tls: true,
    });
    expect(parseRedisUrl("redis://[::1]:7000/").host).toBe("::1");
  });

  it.each([
    ["not a url", "not a URL"],
    ["http://host:6379", "unsupported scheme"],
    ["redis://host:6379/zero", "database must be a number"],
    ["redis://host:6379/0?tls=true", "no query"],
    ["redis://host:6379/99999999", "database must be a number"],
    ["redis://:%E0%A4%A@host", "percent-encoding"],
    [`redis://host/${"0".repeat(5000)}`, "at most 4096"],
  ])("refuses %s", (text, message) => {
    expect(() => parseRedisUrl(text)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(text)).toThrow(message);
  });

  it("never puts the password in its errors", () => {
    try {
      parseRedisUrl("redis://:hunter2-secret@host:6379/x");
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
  });
});

describe("describeRedisEndpoint", () => {
  it("masks the password and keeps the rest", () => {
    expect(describeRedisEndpoint(parseRedisUrl("redis://:secret@host:6379/1"))).toBe("redis://:***@host:6379/1");
    expect(describeRedisEndpoint(parseRedisUrl("rediss://bot:secret@host"))).toBe("rediss://bot:***@host:6379/0");
    expect(describeRedisEndpoint(parseRedisUrl("redis://[::1]:7000"))).toBe("redis://[::1]:7000/0");
  });
});
