/**
 * End to end with a Python client on grpcio (gRPC's C core), the third gRPC
 * implementation after the server's own and grpc-js: the old service's Python
 * users must work unchanged. Debian's python3-grpcio provides it (.ci/run
 * installs it); outside CI the suite is skipped when it is missing.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describeForeignClient } from "./foreign-client.js";

const PYTHON = "/usr/bin/python3";
const CLIENT = fileURLToPath(new URL("./python/chatbot_client.py", import.meta.url));

function hasGrpcio(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import grpc"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describeForeignClient({
  name: "Python",
  available: hasGrpcio(),
  missing: `${PYTHON} cannot import grpc (apt-get install python3-grpcio)`,
  command: () => [PYTHON, CLIENT],
});
