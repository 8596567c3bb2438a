/**
 * Settles with the signal's name on the first SIGINT or SIGTERM, so a program
 * can stop gracefully; a second signal exits at once (130 / 143), for an
 * operator who does not want to wait for calls in flight.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
      stopping = true;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
