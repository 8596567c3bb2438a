/**
 * The README's gRPC section, run as written. grpcurl is not installable here,
 * so each `$ grpcurl ...` line is replayed as grpcurl does it: reflection
 * resolves the method (or lists / describes), the `-d` JSON becomes the
 * request message with protobuf-es `fromJson`, and the call goes over a real
 * gRPC connection with grpc-js; the output is printed as grpcurl prints it
 * and must be the lines the README shows. `$ curl` lines go through fetch.
 * The configuration section must hold the flag and variable tables verbatim.
 */
import { readFileSync } from "node:fs";
import {
  create,
  createFileRegistry,
  type DescMethodUnary,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  toJsonString,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { v1 } from "@chatgptchatbot/proto/reflection";
import { type FakeOpenAI, startFakeOpenAI } from "@chatgptchatbot/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flagsMarkdown } from "../src/cli.js";
import { configReferenceMarkdown } from "../src/config.js";
import { GrpcJsClient, grpc } from "./grpc-js-client.js";
import { type RunningProgram, startProgram } from "./program.js";

const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const REPLY = "你好！有什么我可以帮助你的吗？";
const README_ADDRESS = "localhost:50052";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function section(name: string): string {
  const body = new RegExp(`<!-- section:${name} -->([\\s\\S]*?)<!-- /section:${name} -->`).exec(README)?.[1];
  if (body === undefined) throw new Error(`README.md has no ${name} section`);
  return body;
}

/** The `$ command` / output pairs of the usage section's console block. */
function steps(): { command: string; output: string }[] {
  const block = /```console\n([\s\S]*?)```/.exec(section("usage"))?.[1];
  if (block === undefined) throw new Error("the usage section has no console block");
  const out: { command: string; output: string[] }[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("$ ")) out.push({ command: line.slice(2), output: [] });
    else out.at(-1)?.output.push(line);
  }
  return out.map((s) => ({ command: s.command, output: s.output.join("\n").trimEnd() }));
}

/** Splits a shell command line into words ('…' literal, "…" with backslash escapes, plain words). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g))
    words.push(m[1] ?? m[2]?.replace(/\\(.)/g, "$1") ?? m[3]!);
  return words;
}

/** grpc-js status number → the name grpcurl prints (Go's codes.Code): NOT_FOUND → NotFound. */
function codeName(code: number): string {
  const name = grpc.status[code] ?? "UNKNOWN";
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
}

/** A grpcurl stand-in over grpc-js and server reflection. */
class Grpcurl {
  constructor(readonly client: GrpcJsClient) {}

  async #reflect(request: v1.ServerReflectionRequest["messageRequest"]): Promise<v1.ServerReflectionResponse> {
    const [response] = await this.client.bidi(v1.ServerReflection.method.serverReflectionInfo, [
      { messageRequest: request },
    ]);
    if (response === undefined) throw new Error("no reflection response");
    return response;
  }

  async #registryFor(symbol: string): Promise<FileRegistry> {
    const response = await this.#reflect({ case: "fileContainingSymbol", value: symbol });
    if (response.messageResponse.case !== "fileDescriptorResponse") throw new Error(`symbol not found: ${symbol}`);
    const files = response.messageResponse.value.fileDescriptorProto.map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    return createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  }

  async run(args: string[]): Promise<string> {
    let data: string | undefined;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === "-plaintext") continue;
      if (args[i] === "-d") data = args[++i];
      else rest.push(args[i]!);
    }
    const [, verb, symbol] = rest; // rest[0] is the address
    if (verb === "list" && symbol === undefined) {
      const response = await this.#reflect({ case: "listServices", value: "" });
      const names =
        response.messageResponse.case === "listServicesResponse"
          ? response.messageResponse.value.service.map((s) => s.name)
          : [];
      return names.sort().join("\n");
    }
    if (verb === "list" || verb === "describe") {
      const service = (await this.#registryFor(symbol!)).getService(symbol!);
      if (service === undefined) throw new Error(`${symbol} is not a service`);
      const methods = [...service.methods].sort((a, b) => a.name.localeCompare(b.name));
      if (verb === "list") return methods.map((m) => `${service.typeName}.${m.name}`).join("\n");
      return [
        `${service.typeName} is a service:`,
        `service ${service.name} {`,
        ...methods.map((m) => {
          const stream = (streaming: boolean) => (streaming ? "stream " : "");
          const [ins, outs] = [
            m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
            m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
          ];
          return `  rpc ${m.name} ( ${stream(ins)}.${m.input.typeName} ) returns ( ${stream(outs)}.${m.output.typeName} );`;
        }),
        "}",
      ].join("\n");
    }
    // A call: pkg.Service/Method
    const [serviceName, methodName] = verb!.split("/");
    const service = (await this.#registryFor(serviceName!)).getService(serviceName!);
    const method = service?.methods.find((m) => m.name === methodName);
    if (method === undefined || method.methodKind !== "unary") throw new Error(`no unary method ${verb}`);
    const unary = method as DescMethodUnary;
    const input = fromJson(unary.input, JSON.parse(data ?? "{}") as JsonValue);
    try {
      const output = await this.client.unary(unary, input);
      return toJsonString(unary.output, output, { prettySpaces: 2 });
    } catch (error) {
      const e = error as grpc.ServiceError;
      return `ERROR:\n  Code: ${codeName(e.code)}\n  Message: ${e.details}`;
    }
  }
}

/** `curl [-H header] [-d data] URL` with fetch. */
async function curl(args: string[]): Promise<string> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-H") {
      const [name, ...value] = args[++i]!.split(":");
      headers[name!.trim()] = value.join(":").trim();
    } else if (args[i] === "-d") body = args[++i];
    else url = args[i];
  }
  const res = await fetch(`http://${url}`, { method: body === undefined ? "GET" : "POST", headers, body });
  return await res.text();
}

describe("the README's gRPC section", () => {
  let openai: FakeOpenAI;
  let program: RunningProgram;
  let grpcurl: Grpcurl;

  beforeAll(async () => {
    openai = await startFakeOpenAI({ reply: () => REPLY });
    program = await startProgram({ env: { API_URL: openai.url, GRPC_REFLECTION: "true" } });
    grpcurl = new Grpcurl(new GrpcJsClient(program.grpcUrl));
  });
  afterAll(async () => {
    grpcurl?.client.close();
    await program?.stop();
    await openai?.close();
  });

  it("shows grpcurl commands whose outputs are what the server answers", async () => {
    const all = steps();
    expect(all.filter((s) => s.command.startsWith("grpcurl ")).length).toBeGreaterThanOrEqual(8);
    const address = new URL(program.grpcUrl).host;
    let readmeId: string | undefined;
    let realId: string | undefined;
    for (const { command, output } of all) {
      // The README's example session id stands for the one the server gave.
      let line = command.replaceAll(README_ADDRESS, address);
      if (readmeId !== undefined && realId !== undefined) line = line.replaceAll(readmeId, realId);
      const [tool, ...args] = shellWords(line);
      const actual = tool === "grpcurl" ? await grpcurl.run(args) : await curl(args);
      if (command.endsWith("/NewSession")) {
        readmeId = output.match(UUID)?.[0];
        realId = actual.match(UUID)?.[0];
        expect(readmeId, command).toBeDefined();
        expect(realId, command).toBeDefined();
      }
      const expected = readmeId !== undefined && realId !== undefined ? output.replaceAll(readmeId, realId) : output;
      // A slow machine may have spent a second of the 15 s cooldown between the two chats.
      const seconds = (text: string) => text.replace(/try again in 1[45] s/, "try again in 15 s");
      expect(seconds(actual), command).toBe(expected);
    }
    // The NewSession call reached the upstream with the README's key and initial prompt.
    const request = openai.requests[0];
    expect(request?.headers.authorization).toBe("Bearer sk-test-0123456789abcdef");
    expect(request?.body.messages[0]).toEqual({ role: "system", content: "你是一个虚拟主播。" });
  });

  it("has the flag and variable tables exactly as the code prints them", () => {
    const config = section("config");
    expect(config).toContain(flagsMarkdown());
    expect(config).toContain(configReferenceMarkdown());
  });
});
