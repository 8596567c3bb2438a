import type { Coordinator, SlotReservation, TurnLease } from "@chatgptchatbot/core";
import { afterEach, describe, expect, it } from "vitest";

/** A coordinator under test, the clock it reads, and how to dispose of it. */
export interface CoordinatorUnderTest {
  readonly coordinator: Coordinator;
  /** Moves the coordinator's clock forward (a fake clock, or a real wait for a shared one). */
  advance(ms: number): Promise<void> | void;
  close?(): Promise<void> | void;
}

/** Lets queued promise callbacks and I/O run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The contract every {@link Coordinator} keeps, as vitest tests. `open` gets
 * a fresh coordinator whose clock `advance` moves. Several `open` calls in one
 * test may be asked for the same shared state: pass `replicas` to open a
 * second handle on the first one's state (a second replica), so the atomic
 * guarantees are checked across replicas too.
 */
export function describeCoordinatorConformance(
  name: string,
  open: () => Promise<CoordinatorUnderTest> | CoordinatorUnderTest,
  { replicas }: { replicas?: (first: CoordinatorUnderTest) => Promise<Coordinator> | Coordinator } = {},
): void {
  describe(`Coordinator conformance: ${name}`, () => {
    const opened: CoordinatorUnderTest[] = [];
    async function fresh(): Promise<CoordinatorUnderTest> {
      const underTest = await open();
      opened.push(underTest);
      return underTest;
    }
    afterEach(async () => {
      for (const underTest of opened.splice(0)) await underTest.close?.();
    });

    describe("cooldown per credential", () => {
      it("grants a credential once per interval and says how long until it is free", async () => {
        const { coordinator, advance } = await fresh();
        expect(await coordinator.acquireCredential({ credentials: ["k1"], intervalMs: 1_000 })).toEqual({
          ok: true,
          credential: "k1",
        });
        const refused = await coordinator.acquireCredential({ credentials: ["k1"], intervalMs: 1_000 });
        expect(refused.ok).toBe(false);
        if (!refused.ok) {
          expect(refused.retryAfterMs).toBeGreaterThan(0);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
        }
        await advance(1_000);
        expect(await coordinator.acquireCredential({ credentials: ["k1"], intervalMs: 1_000 })).toEqual({
          ok: true,
          credential: "k1",
        });
      });

      it("takes the first credential not cooling down; different credentials never slow each other", async () => {
        const { coordinator } = await fresh();
        expect(await coordinator.acquireCredential({ credentials: ["k1", "k2"], intervalMs: 1_000 })).toEqual({
          ok: true,
          credential: "k1",
        });
        expect(await coordinator.acquireCredential({ credentials: ["k1", "k2"], intervalMs: 1_000 })).toEqual({
          ok: true,
          credential: "k2",
        });
        expect((await coordinator.acquireCredential({ credentials: ["k1", "k2"], intervalMs: 1_000 })).ok).toBe(false);
        expect(await coordinator.acquireCredential({ credentials: ["k3"], intervalMs: 1_000 })).toEqual({
          ok: true,
          credential: "k3",
        });
      });

      it("an interval of 0 never refuses", async () => {
        const { coordinator } = await fresh();
        for (let i = 0; i < 3; i++) {
          expect(await coordinator.acquireCredential({ credentials: ["k1"], intervalMs: 0 })).toEqual({
            ok: true,
            credential: "k1",
          });
        }
      });

      it("grants one of many simultaneous requests for one credential", async () => {
        const first = await fresh();
        const second = replicas === undefined ? first.coordinator : await replicas(first);
        const grants = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? first.coordinator : second).acquireCredential({ credentials: ["k1"], intervalMs: 60_000 }),
          ),
        );
        expect(grants.filter((g) => g.ok)).toHaveLength(1);
      });
    });

    describe("a session's turn", () => {
      it("is held by one at a time and handed on in arrival order", async () => {
        const { coordinator } = await fresh();
        const order: string[] = [];
        const first = await coordinator.acquireTurn({ sessionId: "s" });
        const waiters = ["a", "b", "c"].map((name) =>
          coordinator.acquireTurn({ sessionId: "s" }).then(async (lease) => {
            order.push(name);
            await settle();
            await lease.release();
          }),
        );
        await settle();
        expect(order).toEqual([]);
        await first.release();
        await Promise.all(waiters);
        expect(order).toEqual(["a", "b", "c"]);
      });

      it("gives increasing fencing tokens, per session and across sessions' independent turns", async () => {
        const { coordinator } = await fresh();
        const tokens: number[] = [];
        for (let i = 0; i < 3; i++) {
          const lease = await coordinator.acquireTurn({ sessionId: "s" });
          tokens.push(lease.token);
          await lease.release();
        }
        expect(tokens[1]!).toBeGreaterThan(tokens[0]!);
        expect(tokens[2]!).toBeGreaterThan(tokens[1]!);
        // Another session's turn is independent: free while "s" is held.
        const held = await coordinator.acquireTurn({ sessionId: "s" });
        const other = await coordinator.acquireTurn({ sessionId: "t" });
        expect(other.lost.aborted).toBe(false);
        await Promise.all([held.release(), other.release()]);
      });

      it("a waiter whose signal aborts leaves the line with the signal's reason; the others keep their places", async () => {
        const { coordinator } = await fresh();
        const held = await coordinator.acquireTurn({ sessionId: "s" });
        const controller = new AbortController();
        const impatient = coordinator.acquireTurn({ sessionId: "s", signal: controller.signal });
        const patient = coordinator.acquireTurn({ sessionId: "s" });
        const reason = new Error("deadline");
        controller.abort(reason);
        await expect(impatient).rejects.toBe(reason);
        await held.release();
        const next = await patient;
        expect(next.token).toBeGreaterThan(held.token);
        await next.release();
        await expect(coordinator.acquireTurn({ sessionId: "s", signal: AbortSignal.abort(reason) })).rejects.toBe(
          reason,
        );
      });

      it("release is idempotent: a second release never frees a turn another holds", async () => {
        const { coordinator } = await fresh();
        const first = await coordinator.acquireTurn({ sessionId: "s" });
        const second = coordinator.acquireTurn({ sessionId: "s" });
        await first.release();
        const holder = await second;
        await first.release();
        expect(await coordinator.tryAcquireTurn("s")).toBeUndefined();
        await holder.release();
      });

      it("tryAcquireTurn takes only a turn nobody holds or waits for", async () => {
        const { coordinator } = await fresh();
        const lease = (await coordinator.tryAcquireTurn("s")) as TurnLease;
        expect(lease).toBeDefined();
        expect(await coordinator.tryAcquireTurn("s")).toBeUndefined();
        const waiter = coordinator.acquireTurn({ sessionId: "s" });
        await lease.release();
        const next = await waiter;
        expect(await coordinator.tryAcquireTurn("s")).toBeUndefined();
        await next.release();
        const free = await coordinator.tryAcquireTurn("s");
        expect(free).toBeDefined();
        await free?.release();
      });

      it("is shared by replicas: one chat at a time per session across them", async () => {
        const first = await fresh();
        const second = replicas === undefined ? first.coordinator : await replicas(first);
        const held = await first.coordinator.acquireTurn({ sessionId: "s" });
        expect(await second.tryAcquireTurn("s")).toBeUndefined();
        const next = second.acquireTurn({ sessionId: "s" });
        await held.release();
        const lease = await next;
        expect(lease.token).toBeGreaterThan(held.token);
        await lease.release();
      });
    });

    describe("slots under the session limit", () => {
      it("reserves while stored sessions plus reservations fit the limit, and frees a slot on release", async () => {
        const { coordinator } = await fresh();
        let stored = 1;
        const request = { limit: 3, occupied: async () => stored };
        const a = (await coordinator.reserveSlot(request)) as SlotReservation;
        const b = (await coordinator.reserveSlot(request)) as SlotReservation;
        expect(a).toBeDefined();
        expect(b).toBeDefined();
        expect(await coordinator.reserveSlot(request)).toBeUndefined();
        // a's session is stored: the store counts it now, the reservation goes.
        stored = 2;
        await a.release();
        await a.release(); // idempotent
        expect(await coordinator.reserveSlot(request)).toBeUndefined();
        await b.release();
        const c = await coordinator.reserveSlot(request);
        expect(c).toBeDefined();
        await c?.release();
      });

      it("never overshoots under simultaneous reservations", async () => {
        const first = await fresh();
        const second = replicas === undefined ? first.coordinator : await replicas(first);
        const request = { limit: 3, occupied: async () => 0 };
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? first.coordinator : second).reserveSlot(request)),
        );
        expect(results.filter((r) => r !== undefined)).toHaveLength(3);
        await Promise.all(results.map((r) => r?.release()));
      });

      it("gives the slot back when counting the stored sessions fails", async () => {
        const { coordinator } = await fresh();
        await expect(
          coordinator.reserveSlot({ limit: 1, occupied: async () => Promise.reject(new Error("store down")) }),
        ).rejects.toThrow("store down");
        const slot = await coordinator.reserveSlot({ limit: 1, occupied: async () => 0 });
        expect(slot).toBeDefined();
        await slot?.release();
      });
    });
  });
}
