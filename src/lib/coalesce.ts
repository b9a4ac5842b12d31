/**
 * Calls that overlap in time, merged into batches: the first call runs at once; calls made while a batch runs
 * wait for it and then run together as the next batch. Used where each call would take a lock and spawn a
 * process (releasing a container's network endpoints, refreshing DNS): `down` stops containers in parallel
 * chains, and N overlapping calls then cost two lock turns and two spawns instead of N of each.
 *
 * With `gather`, the first call of an idle coalescer waits for more: until no call has come for `quietMs`, and at
 * most `maxMs`. Calls that arrive a few hundred microseconds apart (the removals of a `down`, each finishing its own
 * chain of file reads first) then make one batch instead of a lone first one and a batch of the rest.
 *
 * Every call of a batch settles with the batch: its result, or its error.
 */
export interface Gather {
  /** Run once no call has come for this long. */
  readonly quietMs: number;
  /** Run at the latest this long after the first call. */
  readonly maxMs: number;
}

export function coalescing<T, R = void>(run: (items: T[]) => Promise<R>, gather?: Gather): (item: T) => Promise<R> {
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  let firstAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drain = async (): Promise<void> => {
    timer = undefined;
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
  const schedule = (): void => {
    if (running) return;
    if (!gather) {
      void drain();
      return;
    }
    const now = performance.now();
    if (timer === undefined) firstAt = now;
    else clearTimeout(timer);
    const wait = Math.max(0, Math.min(gather.quietMs, firstAt + gather.maxMs - now));
    timer = setTimeout(() => void drain(), wait);
  };
  return (item: T) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      schedule();
    });
}
