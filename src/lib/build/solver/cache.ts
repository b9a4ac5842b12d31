/**
 * The build cache: what a filesystem step (RUN, COPY, ADD, WORKDIR) produced, by the step's key, in the image
 * store's `buildcache/` directory (one JSON file per key). The key (stepKey) covers what BuildKit's cache keys do
 * for these steps: the parent state's key (the base image id, then each step's key), the instruction with its
 * expanded arguments, the environment, user, working directory and shell it runs with, and for COPY/ADD the content
 * (bytes, mode, owner) of what it reads after `.dockerignore`. A hit gives the layers of the state after the step;
 * the store's gc keeps every layer an entry names (gc.ts reads this directory), `prune` drops entries so gc can
 * free them (`tscompose builder prune`).
 */
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../../fs/atomic.js';
import { sha256 } from '../../image/digest.js';
import type { StoredLayer } from '../../image/records.js';

/** The directory under the store root. */
export const BUILD_CACHE_DIR = 'buildcache';

/** What a cached step left: the whole state's layers (bottom → top) and whether the step itself made one. */
export interface CachedStep {
  readonly layers: readonly StoredLayer[];
  readonly emptyLayer: boolean;
  /** Unix ms; for prune filters. */
  readonly created: number;
  /** What the step was (for `builder du`-like listings). */
  readonly description: string;
}

/** The key of a step: a digest of its parent's key and of everything that decides its result. */
export function stepKey(parent: string, ...parts: readonly unknown[]): string {
  return sha256(JSON.stringify([parent, ...parts]));
}

export class BuildCache {
  readonly dir: string;

  constructor(storeRoot: string) {
    this.dir = path.join(storeRoot, BUILD_CACHE_DIR);
  }

  private file(key: string): string {
    return path.join(this.dir, `${key.replace(/^sha256:/, '')}.json`);
  }

  /** Read synchronously: a small file, and the thread pool's round trips cost more than the read (per step of a rebuild). */
  async get(key: string): Promise<CachedStep | undefined> {
    try {
      return JSON.parse(readFileSync(this.file(key), 'utf8')) as CachedStep;
    } catch {
      return undefined;
    }
  }

  /** No fsync: after a crash an entry is whole or unreadable, and an unreadable one is a miss. */
  async put(key: string, step: CachedStep): Promise<void> {
    await writeJsonAtomic(this.file(key), step, { durable: false });
  }

  /** The times of an image built before with the same content (builder.ts stableCreated). */
  async getImageTimes(key: string): Promise<{ created: string; history: string[] } | undefined> {
    try {
      return JSON.parse(readFileSync(this.file(key), 'utf8')) as { created: string; history: string[] };
    } catch {
      return undefined;
    }
  }

  async putImageTimes(key: string, times: { created: string; history: string[] }): Promise<void> {
    await writeJsonAtomic(this.file(key), times, { durable: false });
  }

  async drop(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  /** Removes every entry (older than `olderThanMs` when given); returns how many. */
  async prune(options: { olderThanMs?: number } = {}): Promise<number> {
    let n = 0;
    const now = Date.now();
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      if (options.olderThanMs !== undefined) {
        const e = await this.get(f.slice(0, -5));
        if (e && now - e.created < options.olderThanMs) continue;
      }
      await rm(path.join(this.dir, f), { force: true });
      n++;
    }
    return n;
  }

  /** Every layer chain id and DiffID the entries keep (for gc). */
  async kept(): Promise<{ chainIds: string[]; diffIds: string[] }> {
    const chainIds: string[] = [];
    const diffIds: string[] = [];
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const e = await this.get(f.slice(0, -5));
      for (const l of e?.layers ?? []) {
        chainIds.push(l.chainId);
        diffIds.push(l.diffId);
      }
    }
    return { chainIds, diffIds };
  }
}
