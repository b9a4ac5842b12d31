/**
 * Reads an overlayfs upper directory (what one build step wrote over its parent layers) into the ordered list of
 * entries its layer holds, as Docker's overlay2 driver sees it (moby pkg/archive overlayWhiteoutConverter):
 *
 * - a whiteout (character device 0/0) is a deletion of that name from the lower layers;
 * - a directory with `trusted.overlay.opaque=y` (`user.overlay.opaque=y` when mounted with `userxattr`) hides
 *   everything below it in the lower layers: its entry is followed by the marker `<dir>/.wh..wh..opq`;
 * - everything else is written as it is, parent directories included (copy-up kept their owner, mode and mtime;
 *   containerd's changeWriter likewise always writes a changed entry's parents, so the merged view keeps them).
 *
 * Order: a depth-first walk with the names of each directory sorted bytewise, so a directory comes before its
 * children and the same tree always gives the same entries. The root itself is not an entry (as BuildKit's
 * overlay differ skips it). Overlay features that keep data or names outside the upper directory —
 * `redirect_dir` (a renamed lower directory) and `metacopy` (a metadata-only copy-up) — make the upper directory
 * alone an incomplete diff: they are refused (as BuildKit's overlay differ refuses redirect_dir); mount the
 * build's overlay with `redirect_dir=off,metacopy=off` (the kernel's defaults unless configured otherwise).
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerDiffError } from './errors.js';
import { readTreeXattrs } from './xattrs.js';

export type UpperKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'fifo' | 'char' | 'block';

export interface UpperEntry {
  /** Relative to the upper directory, `/`-separated, no leading `./`. */
  path: string;
  kind: UpperKind;
  stat: Stats;
  /** symlink: its target; hardlink: the path of the first entry of that inode. */
  link?: string;
  /** dir: opaque (hides the lower layers' content of this directory). */
  opaque?: boolean;
  /** The xattrs the layer carries for it (already filtered, see XattrPolicy). */
  xattrs: [string, Buffer][];
}

/**
 * Which xattrs go into the layer. `'capability'` (the default): only `security.capability`, as BuildKit
 * (containerd's archive changeWriter) and Docker (moby's tar writer) write; `'all'`: every xattr except the
 * overlay's private ones, `trusted.*`, `security.selinux` (host-specific labels) and `system.*` (ACLs).
 * overlay's private xattrs (`trusted.overlay.*`, `user.overlay.*`) are never written.
 */
export type XattrPolicy = 'capability' | 'all';

export interface ScanOptions {
  /** The overlay was mounted with `userxattr`: its private xattrs are `user.overlay.*`. */
  userxattr?: boolean;
  xattrs?: XattrPolicy;
}

function keepXattr(name: string, policy: XattrPolicy): boolean {
  if (name.startsWith('trusted.') || name.startsWith('user.overlay.')) return false;
  if (policy === 'capability') return name === 'security.capability';
  return name !== 'security.selinux' && !name.startsWith('system.');
}

const bytewise = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

/** The entries of the layer the upper directory `upper` makes, in tar order. */
export async function scanUpperDir(upper: string, opts: ScanOptions = {}): Promise<UpperEntry[]> {
  const policy = opts.xattrs ?? 'capability';
  const ovl = opts.userxattr ? 'user.overlay.' : 'trusted.overlay.';
  const rootStat = await lstat(upper).catch((e: unknown) => {
    throw new LayerDiffError(`cannot read the upper directory: ${(e as Error).message}`, upper, { cause: e });
  });
  if (!rootStat.isDirectory()) throw new LayerDiffError('the upper directory is not a directory', upper);
  const xattrs = await readTreeXattrs(upper);
  const out: UpperEntry[] = [];
  const firstOfInode = new Map<string, string>();

  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(join(upper, relDir), { encoding: 'buffer' })).sort(bytewise);
    for (const raw of names) {
      const name = raw.toString('utf8');
      const path = relDir === '' ? name : `${relDir}/${name}`;
      if (!Buffer.from(name, 'utf8').equals(raw)) throw new LayerDiffError('a file name that is not UTF-8', path);
      const st = await lstat(join(upper, path));
      const attrs = xattrs.get(path) ?? new Map<string, Buffer>();
      const kept = [...attrs].filter(([k]) => keepXattr(k, policy)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (attrs.has(`${ovl}redirect`)) throw new LayerDiffError('the overlay used redirect_dir (mount it with redirect_dir=off)', path);
      if (attrs.has(`${ovl}metacopy`)) throw new LayerDiffError('the overlay used metacopy (mount it with metacopy=off)', path);
      if (st.isDirectory()) {
        const opaque = attrs.get(`${ovl}opaque`)?.toString('latin1') === 'y';
        out.push({ path, kind: 'dir', stat: st, xattrs: kept, ...(opaque ? { opaque } : {}) });
        await walk(path);
        continue;
      }
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ path, kind: 'whiteout', stat: st, xattrs: [] });
        continue;
      }
      if (st.isSocket()) continue; // tar has no sockets (moby and GNU tar skip them too)
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstOfInode.get(key);
        if (first !== undefined) {
          out.push({ path, kind: 'hardlink', stat: st, link: first, xattrs: [] });
          continue;
        }
        firstOfInode.set(key, path);
      }
      if (st.isFile()) out.push({ path, kind: 'file', stat: st, xattrs: kept });
      else if (st.isSymbolicLink()) out.push({ path, kind: 'symlink', stat: st, link: await readlink(join(upper, path)), xattrs: kept });
      else if (st.isFIFO()) out.push({ path, kind: 'fifo', stat: st, xattrs: kept });
      else if (st.isCharacterDevice()) out.push({ path, kind: 'char', stat: st, xattrs: kept });
      else if (st.isBlockDevice()) out.push({ path, kind: 'block', stat: st, xattrs: kept });
    }
  };
  await walk('');
  return out;
}

/** Linux `major()` / `minor()` of a dev_t. */
export function devNumbers(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: (((lo >>> 8) & 0xfff) | (hi & ~0xfff)) >>> 0,
    minor: ((lo & 0xff) | (Math.floor(rdev / 4096) & ~0xff)) >>> 0,
  };
}
