/**
 * End to end with a Go client on grpc-go, as muvtuber (the service's most
 * important users) has: `grpc.Dial(addr, grpc.WithInsecure())`, plaintext
 * HTTP/2. The client (./go/chatbot_client.go) is compiled once, in GOPATH mode
 * against Debian's golang-google-grpc-dev (no module proxy needed); .ci/run
 * installs golang-go and it. Outside CI the suite is skipped when either is
 * missing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeForeignClient } from "./foreign-client.js";
import { buildGoClient, GO_MISSING, hasGo } from "./go-client.js";

let binary = "";

describeForeignClient({
  name: "Go",
  available: hasGo(),
  missing: GO_MISSING,
  async prepare() {
    const workDir = await mkdtemp(join(tmpdir(), "chatbot-go-client-"));
    binary = await buildGoClient(workDir);
    return () => rm(workDir, { recursive: true, force: true });
  },
  command: () => [binary],
});
