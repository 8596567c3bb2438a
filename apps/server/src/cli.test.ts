import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { parseCliArgs, usage } from "./cli.js";
import { configReference } from "./config.js";

describe("parseCliArgs", () => {
  it("serves gRPC on localhost:50052 when no address is given", () => {
    expect(parseCliArgs([])).toEqual({
      grpc: { host: "localhost", port: 50052 },
      http: undefined,
      debug: false,
      help: false,
    });
  });

  it("keeps the old flags: --grpc, --http alone (HTTP only), both, --debug", () => {
    expect(parseCliArgs(["--grpc", "0.0.0.0:6000"]).grpc).toEqual({ host: "0.0.0.0", port: 6000 });
    const httpOnly = parseCliArgs(["--http", "localhost:9006"]);
    expect(httpOnly.grpc).toBeUndefined();
    expect(httpOnly.http).toEqual({ host: "localhost", port: 9006 });
    const both = parseCliArgs(["--grpc", ":50052", "--http=[::1]:9006", "--debug"]);
    expect(both).toEqual({
      grpc: { host: "localhost", port: 50052 },
      http: { host: "::1", port: 9006 },
      debug: true,
      help: false,
    });
    expect(parseCliArgs(["-h"]).help).toBe(true);
  });

  it("refuses an unknown flag or a bad address with a ConfigError naming it", () => {
    expect(() => parseCliArgs(["--port", "1"])).toThrow(ConfigError);
    expect(() => parseCliArgs(["--grpc", "localhost:99999"])).toThrow(/^--grpc: /);
    expect(() => parseCliArgs(["--http", "a b:1"])).toThrow(/^--http: /);
  });
});

describe("usage", () => {
  it("lists every flag and every environment variable with its default", () => {
    const text = usage();
    for (const flag of ["--grpc host:port", "--http host:port", "--debug", "--help"]) expect(text).toContain(flag);
    expect(text).toContain("[default: localhost:50052]");
    expect(text).toMatch(/--grpc host:port .*browser playground at \/ on the same port/);
    expect(text).toMatch(/--http host:port .*GET \/healthz/);
    // The environment part is the config table's own reference (config.test checks every variable is in it).
    expect(text).toContain(`\nEnvironment:\n${configReference()}\n`);
  });
});
