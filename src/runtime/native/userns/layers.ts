/**
 * Image layers for a remapped container: the overlay `lowerdir=` of the image store (lib/image/content.ts, `l/<id>`
 * entries relative to the store's root) turned into the same entries under `<state>/userns/<uid>.<gid>.<size>/`,
 * each a chowned copy of the layer (./shift.ts) made on first use and kept, as dockerd keeps
 * `/var/lib/docker/<uid>.<gid>/` next to the unshifted store. The entry names are the store's (short, so 150+
 * layers stay under the mount data limit) and stable for a layer's content.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { rangeKey, type IdRange } from './idmap.js';
import { shiftedCopy } from './shift.js';

/** The lowerdir of `lower` with each layer replaced by its shifted copy under `cacheRoot`, copies made as needed. */
export async function remappedLowerdir(
  lower: { cwd: string; lowerdir: string },
  cacheRoot: string,
  range: IdRange,
): Promise<{ cwd: string; lowerdir: string; copied: number }> {
  const cwd = path.join(cacheRoot, rangeKey(range));
  const entries = lower.lowerdir.split(':').filter((e) => e !== '');
  let copied = 0;
  const ensure = async (entry: string): Promise<void> => {
    const dest = path.join(cwd, entry);
    if (await fs.stat(dest).catch(() => undefined)) return;
    const src = await fs.realpath(path.resolve(lower.cwd, entry));
    await shiftedCopy(src, dest, range);
    copied++;
  };
  for (let i = 0; i < entries.length; i += 4) await Promise.all(entries.slice(i, i + 4).map(ensure));
  return { cwd, lowerdir: entries.join(':'), copied };
}

/** Removes the shifted copies whose layer is gone from the store (`storeRoot/<entry>` missing). */
export async function pruneRemappedLayers(cacheRoot: string, storeRoot: string): Promise<number> {
  let removed = 0;
  for (const key of await fs.readdir(cacheRoot).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(cacheRoot, key, 'l')).catch(() => [] as string[])) {
      if (name.includes('.tmp-')) continue;
      if (await fs.lstat(path.join(storeRoot, 'l', name)).catch(() => undefined)) continue;
      await fs.rm(path.join(cacheRoot, key, 'l', name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
