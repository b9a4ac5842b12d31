/**
 * Paths inside an image root for the builder's file operations, with the semantics BuildKit's file backend gets
 * from containerd/continuity `fs.RootPath` and tonistiigi/fsutil `copy.MkdirAll`:
 * - resolveInRoot: a path in the image resolved on the host as if `root` were `/` — the path is cleaned lexically
 *   first, each symlink met is read and its target resolved from the directory holding it (absolute targets from
 *   `root`), `..` never goes above `root`, missing components are kept as written, more than 255 links fail;
 * - mkdirAllIn: creates the missing directories of a resolved path with a mode set past the umask, an owner and
 *   optionally a time on each directory it creates (existing ones are left as they are), and lists what it made.
 */
import type { BigIntStats, Stats } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../../errors.js';
import type { Owner } from '../context/select.js';
import { FileOpError } from './fileops-errors.js';

const MAX_LINKS = 255;

/** The in-image path (`/a/b`) of a host path under `root`. */
export function inImage(root: string, host: string): string {
  const rel = path.relative(root, host);
  return rel === '' ? '/' : `/${rel.split(path.sep).join('/')}`;
}

/** lstat, or undefined when nothing is there. */
export async function lstatOrNone(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/**
 * Resolves `p` (in the image; a relative one is taken from `/`) inside `root` following symlinks as if root were
 * `/`, never leaving root, and returns the host path. With `followLast: false` the last component is not followed
 * (it is the name to create or replace). A file on the way (ENOTDIR) or a loop fails with a FileOpError.
 */
export async function resolveInRoot(root: string, p: string, opts: { followLast?: boolean } = {}): Promise<string> {
  const followLast = opts.followLast ?? true;
  const base = path.resolve(root);
  let cur = path.posix.resolve('/', p);
  let links = 0;
  for (;;) {
    const comps = cur.split('/').filter((c) => c !== '');
    let replaced = false;
    for (let i = 0; i < comps.length && !(i === comps.length - 1 && !followLast); i++) {
      const host = path.join(base, ...comps.slice(0, i + 1));
      let st: Stats;
      try {
        st = await lstat(host);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) break;
        if (isErrno(e, 'ENOTDIR'))
          throw new FileOpError(path.posix.resolve('/', p), `not a directory: /${comps.slice(0, i).join('/')}`, { cause: e });
        throw e;
      }
      if (!st.isSymbolicLink()) continue;
      if (++links > MAX_LINKS) throw new FileOpError(path.posix.resolve('/', p), 'too many levels of symbolic links');
      const target = await readlink(host);
      // The target replaces the link's component, from the link's directory (or `/`), cleaned lexically.
      cur = path.posix.resolve('/', ...comps.slice(0, i), target, ...comps.slice(i + 1));
      replaced = true;
      break;
    }
    if (!replaced) return comps.length === 0 ? base : path.join(base, ...comps);
  }
}

/** `mtime`/`atime` in seconds with the nanoseconds kept as well as a double can (for utimes/lutimes). */
export function seconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** Source times of a BigInt lstat, for lutimes. */
export function timesOf(st: BigIntStats): [number, number] {
  return [seconds(st.atimeNs), seconds(st.mtimeNs)];
}

/**
 * fsutil `MkdirAll` of `host` (a resolved path under `root`): each missing directory is made with `perm` (chmod'ed
 * past the umask), owned by `owner` when given, and dated `time` when given. A non-directory on the way fails.
 * Returns the directories made, outermost first.
 */
export async function mkdirAllIn(root: string, host: string, perm: number, owner?: Owner, time?: Date): Promise<string[]> {
  const rel = path.relative(root, host);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`internal: ${host} is not under ${root}`);
  const made: string[] = [];
  let cur = root;
  for (const comp of rel.split(path.sep).filter((c) => c !== '')) {
    cur = path.join(cur, comp);
    try {
      await mkdir(cur, { mode: perm & 0o777 });
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      if ((await lstat(cur)).isDirectory()) continue;
      throw new FileOpError(inImage(root, cur), 'not a directory', { cause: e });
    }
    await chmod(cur, perm & 0o777);
    if (owner !== undefined) await lchown(cur, owner.uid, owner.gid);
    made.push(cur);
  }
  if (time !== undefined) for (const d of [...made].reverse()) await utimes(d, time, time);
  return made;
}
