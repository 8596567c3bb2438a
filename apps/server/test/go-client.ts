/**
 * muvtuber's kind of client: ./go/chatbot_client.go on grpc-go, compiled in
 * GOPATH mode against Debian's golang-google-grpc-dev (no module proxy
 * needed); .ci/run installs golang-go and it. Outside CI the suites are
 * skipped when either is missing.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const GOCODE = "/usr/share/gocode";
const CLIENT_DIR = fileURLToPath(new URL("./go/", import.meta.url));

export const GO_MISSING = `no \`go\` on PATH or no grpc-go under ${GOCODE}/src (apt-get install golang-go golang-google-grpc-dev)`;

export function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return existsSync(join(GOCODE, "src/google.golang.org/grpc"));
  } catch {
    return false;
  }
}

/** Compiles the client into `workDir`; @returns the binary's path. */
export async function buildGoClient(workDir: string): Promise<string> {
  const binary = join(workDir, "chatbot_client");
  // GOPATH mode: grpc-go and its dependencies come from Debian's gocode tree.
  await promisify(execFile)("go", ["build", "-o", binary, "chatbot_client.go"], {
    cwd: CLIENT_DIR,
    timeout: 300_000,
    env: {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: `${workDir}/gopath:${GOCODE}`,
      GOCACHE: join(workDir, "cache"),
      GOFLAGS: "",
    },
  });
  return binary;
}
