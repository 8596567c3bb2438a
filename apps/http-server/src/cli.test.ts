import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { parseCliArgs, usage } from "./cli.js";

describe("parseCliArgs", () => {
  it("defaults to localhost:9006, as the old service", () => {
    expect(parseCliArgs([])).toEqual({ http: { host: "localhost", port: 9006 }, debug: false, help: false });
  });

  it("reads --http host:port and --debug", () => {
    expect(parseCliArgs(["--http", "0.0.0.0:8000", "--debug"])).toEqual({
      http: { host: "0.0.0.0", port: 8000 },
      debug: true,
      help: false,
    });
    expect(parseCliArgs(["--http=:9100"]).http).toEqual({ host: "localhost", port: 9100 });
  });

  it("rejects unknown flags and bad values", () => {
    expect(() => parseCliArgs(["--grpc", "x"])).toThrow(ConfigError);
    expect(() => parseCliArgs(["--http", "nope:port"])).toThrow(/^--http: /);
  });

  it("prints the flags and every environment variable in --help", () => {
    expect(parseCliArgs(["-h"]).help).toBe(true);
    const text = usage();
    expect(text).toContain("--http host:port");
    expect(text).toContain("CHATBOT_HTTP_BODY_LIMIT");
    expect(text).toContain("OPENAI_API_KEYS");
  });
});
