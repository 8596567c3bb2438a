/**
 * End to end with a Go client on grpc-go, as muvtuber (the service's most
 * important users) has: `grpc.Dial(addr, grpc.WithInsecure())`, plaintext
 * HTTP/2. The client (./go/chatbot_client.go) is compiled once, in GOPATH mode
 * against Debian's golang-google-grpc-dev (no module proxy needed); .ci/run
 * installs golang-go and it. Outside CI the suite is skipped when either is
 * missing.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describeForeignClient } from "./foreign-client.js";

const GOCODE = "/usr/share/gocode";
const CLIENT_DIR = fileURLToPath(new URL("./go/", import.meta.url));

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return existsSync(join(GOCODE, "src/google.golang.org/grpc"));
  } catch {
    return false;
  }
}

let binary = "";

describeForeignClient({
  name: "Go",
  available: hasGo(),
  missing: `no \`go\` on PATH or no grpc-go under ${GOCODE}/src (apt-get install golang-go golang-google-grpc-dev)`,
  async prepare() {
    const workDir = await mkdtemp(join(tmpdir(), "chatbot-go-client-"));
    binary = join(workDir, "chatbot_client");
    // GOPATH mode: grpc-go and its dependencies come from Debian's gocode tree.
    await promisify(execFile)("go", ["build", "-o", binary, "chatbot_client.go"], {
      cwd: CLIENT_DIR,
      timeout: 300_000,
      env: { ...process.env, GO111MODULE: "off", GOPATH: `${workDir}/gopath:${GOCODE}`, GOCACHE: join(workDir, "cache"), GOFLAGS: "" },
    });
    return () => rm(workDir, { recursive: true, force: true });
  },
  command: () => [binary],
});
