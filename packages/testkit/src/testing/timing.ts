/** Lets pending I/O callbacks run (not a wall-clock wait). */
export const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A promise with its resolve function, for steps a test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
