/**
 * Helpers of the image store check (./store-check.ts): what in the store's directories is a leftover of an
 * interrupted write (scratch and leases of dead processes, the temp files of lib/fs/atomic.ts writes), and hashing a
 * blob. The store's writers name every temp file or directory with their pid (fsutil.ts tempName, atomic.ts), so a
 * leftover is one whose writer is gone; the entries of live processes are work in progress and are left alone.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { pidAlive } from '../fs/proc.js';

/** A leftover found: its path relative to the store root, and the pid that wrote it. */
export interface Leftover {
  readonly rel: string;
  readonly pid: number;
  readonly what: string;
}

/** The writer's pid of a name the store's writers give temp entries, or undefined for other names. */
export function tempOwner(name: string): number | undefined {
  // lib/fs/atomic.ts: `.<file>.tmp-<pid>-<hex>`
  const atomic = /^\..+\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
  if (atomic) return Number(atomic[1]);
  return undefined;
}

/** The pid in a scratch or lease name (`<pid>-…`, `gc-<pid>-…`), undefined for other names. */
export function scratchOwner(name: string): number | undefined {
  const m = /^(?:gc-)?(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** Directories where records, names, lists and blobs are written atomically (and their temp files may be left). */
export const ATOMIC_DIRS = ['', 'images', 'distribution', 'blobs/sha256', 'buildcache', 'leases'];

/** The leftovers of dead writers under the store root. */
export async function findLeftovers(root: string): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const dead = (pid: number | undefined): pid is number => pid !== undefined && pid !== process.pid && !pidAlive(pid);
  for (const name of await names(`${root}/tmp`)) {
    const pid = scratchOwner(name);
    // tmp/ holds scratch only: a name without a pid is nobody's
    if (pid === undefined || dead(pid)) out.push({ rel: `tmp/${name}`, pid: pid ?? 0, what: 'scratch of an interrupted pull, load, build or gc' });
  }
  for (const name of await names(`${root}/leases`)) {
    const pid = scratchOwner(name);
    if (dead(pid)) out.push({ rel: `leases/${name}`, pid, what: 'lease of an interrupted pull, load or build' });
  }
  for (const dir of ATOMIC_DIRS) {
    for (const name of await names(dir === '' ? root : `${root}/${dir}`)) {
      const pid = tempOwner(name);
      if (dead(pid)) out.push({ rel: dir === '' ? name : `${dir}/${name}`, pid, what: 'temp file of an interrupted write' });
    }
  }
  return out;
}

/** The sha256 digest and size of a file's content. */
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    createReadStream(file),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
      }
    },
    signal ? { signal } : {},
  );
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
