/**
 * Calls that overlap in time, merged into batches: the first call runs at once; calls made while a batch runs
 * wait for it and then run together as the next batch. Used where each call would take a lock and spawn a
 * process (releasing a container's network endpoints, refreshing DNS): `down` stops containers in parallel
 * chains, and N overlapping calls then cost two lock turns and two spawns instead of N of each.
 *
 * Every call of a batch settles with the batch: its result, or its error.
 */
export function coalescing<T, R = void>(run: (items: T[]) => Promise<R>): (item: T) => Promise<R> {
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  const drain = async (): Promise<void> => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        try {
          const result = await run(batch.map((b) => b.item));
          for (const b of batch) b.resolve(result);
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      running = false;
    }
  };
  return (item: T) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
