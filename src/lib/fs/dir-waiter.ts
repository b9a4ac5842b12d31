/**
 * A wait that a change in a directory cuts short: inotify (fs.watch) on the directory wakes the pending `wait`, and
 * its timeout stands in as a poll when nothing is noticed (or the directory cannot be watched: then it is a plain
 * poll). For waits on a file another process writes there (conmon's start log and exit file, a helper's ready
 * file): polling many such waits at once cost the CLI's main thread more than the work it waited for.
 */
import { watch, type FSWatcher } from 'node:fs';

export class DirWaiter {
  private wake: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;

  /** Watches `dir`; an abort of `signal` wakes a pending wait too. */
  constructor(dir: string, signal?: AbortSignal) {
    try {
      this.watcher = watch(dir, () => this.wake?.());
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // polling only
    }
    signal?.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  /** Whether changes wake the waits (else each wait lasts its whole `ms`). */
  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** Resolves after `ms`, or sooner when the directory changes (a change while no wait is pending is not kept). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Stops watching; a pending wait resolves. */
  close(): void {
    this.watcher?.close();
    this.wake?.();
  }
}
