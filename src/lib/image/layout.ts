/**
 * The image store's directory (see store.ts for the layout): its paths, the metadata lock, scratch space and
 * leases (what running pulls and loads use, so gc keeps it), and the sweep of what dead processes left behind.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import { pidAlive } from '../fs/proc.js';
import { hexOf } from './digest.js';
import { tempName } from './fsutil.js';
import { ATOMIC_DIRS, tempOwner } from './store-check-scan.js';

/** How long a store operation waits for another process's metadata update (gc of large layers can take a while). */
const LOCK_TIMEOUT_MS = 120_000;

const DIRS = ['blobs/sha256', 'layers', 'l', 'distribution', 'images', 'tmp', 'leases'];

export class StoreLayout {
  readonly root: string;
  private ready: Promise<void> | undefined;

  constructor(root: string) {
    this.root = root;
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }
  blobPath(digest: string): string {
    return this.path('blobs', 'sha256', hexOf(digest));
  }
  layerRoot(chainId: string): string {
    return this.path('layers', hexOf(chainId));
  }
  recordPath(id: string): string {
    return this.path('images', `${hexOf(id)}.json`);
  }
  distributionPath(diffId: string): string {
    return this.path('distribution', `${hexOf(diffId)}.json`);
  }
  /** A fresh name in tmp/ (swept once this process is gone). */
  scratch(suffix = ''): string {
    return this.path('tmp', tempName() + suffix);
  }

  /**
   * Makes the directories and sweeps dead processes' leftovers, once per store object. The directories are made
   * and listed synchronously: ~20 calls that each take microseconds, which in a row through the thread pool took a
   * few milliseconds of every command that looks up an image (a no-op `up`).
   */
  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const d of DIRS) mkdirSync(this.path(d), { recursive: true });
      await this.sweep();
    })();
    return this.ready;
  }

  /**
   * Removes scratch and leases of processes that are gone, and the temp files of their atomic writes (a write that
   * failed half-way, on a full disk, leaves its temp file: lib/fs/atomic.ts removes it only when the rename fails).
   */
  async sweep(): Promise<void> {
    const names = (d: string): string[] => {
      try {
        return readdirSync(this.path(d));
      } catch {
        return [];
      }
    };
    for (const d of ['tmp', 'leases']) {
      for (const name of names(d)) {
        const pid = Number(/^(?:gc-)?(\d+)-/.exec(name)?.[1]);
        if (pid === process.pid || pidAlive(pid)) continue;
        await removeLeftover(this.path(d, name));
      }
    }
    for (const d of ATOMIC_DIRS) {
      for (const name of names(d)) {
        const pid = tempOwner(name);
        if (pid === undefined || pid === process.pid || pidAlive(pid)) continue;
        await rm(this.path(d, name), { force: true }).catch(() => undefined);
      }
    }
  }

  /** Runs `fn` holding the store's metadata lock (names, records, distribution lists, gc). */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.path('lock'), fn, { timeoutMs: LOCK_TIMEOUT_MS });
  }

  /** Runs `fn` with a lease on `digests` (blobs, layers, DiffIDs): gc keeps them meanwhile. */
  async withLease<T>(digests: readonly string[], fn: () => Promise<T>): Promise<T> {
    const path = this.path('leases', `${tempName()}.json`);
    await writeJsonAtomic(path, digests);
    try {
      return await fn();
    } finally {
      await rm(path, { force: true });
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Removes a dead process's scratch. Its children may still write there for a moment (a layer's `tar -x` reads to the
 * end of its input after the process that fed it was killed): a directory that filled up again meanwhile (ENOTEMPTY)
 * is tried again for ~1 s. What still cannot go (or cannot go at all: EBUSY, a mount) is left for the next sweep,
 * never an error.
 */
async function removeLeftover(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await rm(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
