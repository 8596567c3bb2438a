import { describeCoordinatorConformance } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { MemoryCoordinator } from "./memory-coordinator.js";

describeCoordinatorConformance("in process", () => {
  let now = 1_000_000;
  return {
    coordinator: new MemoryCoordinator({ now: () => now }),
    advance: (ms) => {
      now += ms;
    },
  };
});

describe("MemoryCoordinator", () => {
  it("issues fencing tokens above those of a process started earlier (they follow the clock)", async () => {
    const earlier = new MemoryCoordinator({ now: () => 1_000 });
    let last = 0;
    for (let i = 0; i < 5; i++) {
      const lease = await earlier.acquireTurn({ sessionId: "s" });
      last = lease.token;
      await lease.release();
    }
    const restarted = new MemoryCoordinator({ now: () => 1_001 });
    const lease = await restarted.acquireTurn({ sessionId: "s" });
    expect(lease.token).toBeGreaterThan(last);
  });
});
