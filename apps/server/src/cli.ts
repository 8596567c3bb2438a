import { parseArgs } from "node:util";
import { ConfigError } from "@chatgptchatbot/core";
import { DEFAULT_GRPC_HOST, DEFAULT_GRPC_PORT } from "@chatgptchatbot/grpc-server";
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from "@chatgptchatbot/http-server";
import { configReference } from "./config.js";
import { type HostPort, parseHostPort } from "./host-port.js";

export interface CliArgs {
  /** Where to serve gRPC, gRPC-web and Connect; undefined: not at all (`--http` given alone). */
  readonly grpc: HostPort | undefined;
  /** Where to serve the legacy HTTP API; undefined: not at all (no `--http`). */
  readonly http: HostPort | undefined;
  /** `--debug`: debug logs (prompts and replies included) and gRPC reflection. */
  readonly debug: boolean;
  readonly help: boolean;
}

/** The flags, as `--help` lists them. */
export const FLAGS = [
  {
    flag: "--grpc host:port",
    default: `${DEFAULT_GRPC_HOST}:${DEFAULT_GRPC_PORT}`,
    description:
      "Serve gRPC, gRPC-web and Connect (HTTP/1.1 and HTTP/2) here, and the browser playground at / on the same port. On unless only --http is given.",
  },
  {
    flag: "--http host:port",
    default: "off",
    description: `Serve the legacy HTTP API (POST /ask, POST /renew, GET /healthz) here, e.g. ${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}. Alone: only HTTP; with --grpc: both, one session pool.`,
  },
  {
    flag: "--debug",
    default: "off",
    description: "Log at debug level (prompts and replies included) and serve gRPC reflection.",
  },
  { flag: "-h, --help", default: "", description: "Print this help and exit." },
] as const;

/**
 * Reads the flags of the old service: `--grpc host:port`, `--http host:port`,
 * `--debug`, `--help`. With neither address, gRPC runs on localhost:50052;
 * `--http` alone runs only the HTTP API, as before; both run both.
 *
 * @throws ConfigError naming the flag, for an unknown flag or a bad value.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: { grpc?: string; http?: string; debug?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        grpc: { type: "string" },
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
  const http =
    values.http === undefined
      ? undefined
      : parseHostPort(values.http, { flag: "--http", defaultHost: DEFAULT_HTTP_HOST, defaultPort: DEFAULT_HTTP_PORT });
  const grpc =
    values.grpc !== undefined
      ? parseHostPort(values.grpc, { flag: "--grpc", defaultHost: DEFAULT_GRPC_HOST, defaultPort: DEFAULT_GRPC_PORT })
      : http === undefined
        ? { host: DEFAULT_GRPC_HOST, port: DEFAULT_GRPC_PORT }
        : undefined;
  return { grpc, http, debug: values.debug === true, help: values.help === true };
}

/** The flags as a markdown table (the README's copy is checked against it). */
export function flagsMarkdown(): string {
  const rows = ["| Flag | Default | Meaning |", "| --- | --- | --- |"];
  for (const f of FLAGS)
    rows.push(`| \`${f.flag}\` | ${f.default === "" ? "" : `\`${f.default}\``} | ${f.description} |`);
  return rows.join("\n");
}

/** The `--help` text: every flag, then every environment variable with its default. */
export function usage(): string {
  const width = Math.max(...FLAGS.map((f) => f.flag.length)) + 2;
  return [
    "Usage: chatgptchatbot [--grpc host:port] [--http host:port] [--debug]",
    "",
    "ChatGPTChatbot: chatbot sessions for AI VTuber pipelines over gRPC, gRPC-web and Connect",
    "(muvtuber.chatbot.v2.ChatbotService, with grpc.health.v1), and the legacy HTTP API.",
    "",
    "Flags:",
    ...FLAGS.map(
      (f) => `  ${f.flag.padEnd(width)}${f.description}${f.default === "" ? "" : ` [default: ${f.default}]`}`,
    ),
    "",
    "Environment:",
    configReference(),
    "",
  ].join("\n");
}
