import { parseArgs } from "node:util";
import { ConfigError, configReference } from "@chatgptchatbot/core";
import { type HostPort, parseHostPort } from "./host-port.js";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from "./server.js";

export interface CliArgs {
  /** Where to serve the HTTP API (`--http host:port`, default localhost:9006). */
  readonly http: HostPort;
  /** `--debug`: log at debug level (prompts and replies included). */
  readonly debug: boolean;
  readonly help: boolean;
}

/**
 * Reads the standalone HTTP server's flags.
 *
 * @throws ConfigError for an unknown flag or a bad value.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: { http?: string; debug?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        http: { type: "string" },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError("arguments", (error as Error).message);
  }
  return {
    http: values.http === undefined ? { host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT } : parseHostPort(values.http),
    debug: values.debug === true,
    help: values.help === true,
  };
}

/** The `--help` text: flags, then every environment variable with its default. */
export function usage(): string {
  return [
    "Usage: chatgptchatbot-http [--http host:port] [--debug]",
    "",
    "The legacy HTTP API of ChatGPTChatbot: POST /ask, POST /renew, GET /healthz.",
    "",
    "Flags:",
    "  --http host:port  where to listen [default: localhost:9006]",
    "  --debug           log at debug level (prompts and replies included)",
    "  -h, --help        print this help",
    "",
    "Environment:",
    configReference(),
    "",
  ].join("\n");
}
