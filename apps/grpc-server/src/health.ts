import { clientIdentifier } from "@chatgptchatbot/core";
import { ChatbotService } from "@chatgptchatbot/proto";
import { type Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@chatgptchatbot/proto/health";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";

export { ServingStatus };

/**
 * The serving status the health service reports: SERVING from the start,
 * NOT_SERVING once the server begins to shut down (so load balancers stop
 * sending new calls while in-flight ones finish).
 */
export class HealthStatus {
  readonly #services: ReadonlySet<string>;
  #status: ServingStatus = ServingStatus.SERVING;
  readonly #watchers = new Set<() => void>();
  readonly #closing = new AbortController();

  /** `services`: the full names answered besides "" (the whole server). */
  constructor({ services = [ChatbotService.typeName] }: { services?: readonly string[] } = {}) {
    this.#services = new Set(["", ...services]);
  }

  /** The status of a service, or undefined for a service this server does not know. */
  get(service: string): ServingStatus | undefined {
    return this.#services.has(service) ? this.#status : undefined;
  }

  /** Sets the status of every service and wakes the watchers. */
  set(status: ServingStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const wake of this.#watchers) wake();
  }

  /** NOT_SERVING, and ends every Watch stream (they would hold connections open). */
  shutdown(): void {
    this.set(ServingStatus.NOT_SERVING);
    this.#closing.abort();
  }

  /** Aborted by {@link shutdown}. */
  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Resolves at the next status change or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#watchers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#watchers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** The standard `grpc.health.v1.Health` service over a {@link HealthStatus}. */
export function createHealthService(status: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check({ service }) {
      const current = status.get(service);
      if (current === undefined) {
        // The name is the client's: quoted short, so a huge one cannot overflow the status metadata.
        throw new ConnectError(`unknown service ${clientIdentifier(service)}`, Code.NotFound);
      }
      return { status: current };
    },

    async *watch({ service }, { signal }) {
      const stop = AbortSignal.any([signal, status.closingSignal]);
      let last: ServingStatus | undefined;
      for (;;) {
        const current = status.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) {
          last = current;
          yield { status: current };
          continue; // the status may have changed while the client read this one
        }
        if (stop.aborted) return;
        await status.changed(stop);
      }
    },
  };
}
