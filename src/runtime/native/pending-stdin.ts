/**
 * The stdin FIFOs of attaches made before a container's start (`run -i`), which that start hands to the container:
 * shared by ./attach.ts, which makes them, and ./monitor/conmon.ts, which starts the container.
 */

/** Container id → the stdin FIFO an attach made before its start (this process only). */
export const pendingStdin = new Map<string, string>();

/** The FIFO to give the container as its stdin at this start, when an attach is waiting for it. */
export function pendingStdinFifo(id: string): string | undefined {
  return pendingStdin.get(id);
}
