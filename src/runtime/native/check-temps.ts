/**
 * For `tscompose check` (./check.ts): the temp files of interrupted atomic writes (lib/fs/atomic.ts
 * writeFileAtomic's `.<name>.tmp-<pid>-<hex>`, its writer killed between open and rename) anywhere in the native
 * state directory where tscompose writes its own files. Left out: the image store (its own check sweeps its temp
 * files), file trees that are not tscompose's (containers' layers, binds, secrets and configs; volumes' data; build
 * scratch and cache mounts; remapped layer copies) and anything mounted.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isMissing } from '../../lib/errors.js';
import { staleAtomicTemps } from '../../lib/fs/atomic.js';
import { mountsUnder } from '../../lib/fs/mounts.js';

/** Whether the directory at `rel` (relative to the state directory, `/`-separated) is not tscompose's own files. */
function skipped(rel: string): boolean {
  const [top, second] = rel.split('/');
  const depth = rel.split('/').length;
  if (top === 'images' || top === 'userns') return true;
  if (top === 'build' && (second === 'runs' || second === 'worker' || second === 'cache-mounts')) return true;
  // containers/<id>/ (record.json, image-config.json) and volumes/<name>/ (volume.json): their subdirectories are
  // the container's file trees and the volume's data.
  return (top === 'containers' || top === 'volumes') && depth > 2;
}

/** Stale writeFileAtomic temp files under the state directory `root` (see the header), as absolute paths. */
export async function staleTempsUnder(root: string): Promise<string[]> {
  const mounted = new Set(await mountsUnder(root));
  const out: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    out.push(...(await staleAtomicTemps(dir)));
    if (depth >= 6) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = path.join(dir, e.name);
      if (!skipped(sub) && !mounted.has(abs)) await walk(abs, sub, depth + 1);
    }
  };
  await walk(root, '', 0); // the state directory may itself be a mount point: those under it are skipped
  return out.sort();
}
