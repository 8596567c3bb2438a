import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { parseHostPort } from "./host-port.js";

describe("parseHostPort", () => {
  it.each([
    ["localhost:9006", { host: "localhost", port: 9006 }],
    ["0.0.0.0:8080", { host: "0.0.0.0", port: 8080 }],
    [":7000", { host: "localhost", port: 7000 }],
    ["example.internal", { host: "example.internal", port: 9006 }],
    ["[::1]:9006", { host: "::1", port: 9006 }],
    ["[::]", { host: "::", port: 9006 }],
    [" 127.0.0.1:0 ", { host: "127.0.0.1", port: 0 }],
  ])("reads %j", (value, expected) => {
    expect(parseHostPort(value)).toEqual(expected);
  });

  it.each(["", "host:", "host:http", "host:70000", "::1:9006", "a b:1"])("rejects %j naming the flag", (value) => {
    expect(() => parseHostPort(value)).toThrow(ConfigError);
    expect(() => parseHostPort(value)).toThrow(/^--http: /);
  });

  it("takes other defaults and flag names", () => {
    expect(parseHostPort(":1", { defaultHost: "0.0.0.0" })).toEqual({ host: "0.0.0.0", port: 1 });
    expect(() => parseHostPort("x:y", { flag: "--grpc" })).toThrow(/^--grpc: /);
  });
});
