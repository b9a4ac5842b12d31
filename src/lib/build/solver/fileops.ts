/**
 * The host-side file operations of the native builder's COPY/ADD/WORKDIR steps, done into `root` (the merged view
 * of a step's overlay, or any directory that plays the image's `/`). Semantics are BuildKit's file backend
 * (solver/llbsolver/file/backend.go `docopy`/`mkdir`/`mkfile`) over tonistiigi/fsutil `copy.Copy`, as the
 * Dockerfile front end drives it (dockerfile2llb `dispatchCopy`: CreateDestPath, CopyDirContentsOnly,
 * FollowSymlinks; `dispatchWorkdir`: Mkdir with parents, 0755, the stage's user):
 *
 * - resolveInRoot(root, p, { followLast }): containerd's `fs.RootPath` (fileops-paths.ts).
 * - applyCopy(root, sourceDir, entries, { chown, chmod, replaceExisting, signal }): writes selectCopy's entries.
 *   A top-level destination is resolved through symlinks (the last one too) and its missing parents are made
 *   (fsutil MkdirAll: mode `--chmod` or 0755, owner `--chown` or the builder's 0:0). A directory source's
 *   destination is made the same way, so its own mode/owner are never copied; it only gets the source's times once
 *   its contents are in. Below it, paths are joined without following symlinks: a new directory is made, an
 *   existing one is kept; either way it then gets the entry's owner, mode and times (after its contents). Files
 *   are copied (hard links between copied files kept), symlinks recreated with their target as written; each gets
 *   owner (lchown), mode (not on links) and the source's atime/mtime. An existing non-directory is replaced; a file
 *   onto a directory or a directory onto a non-directory fails like fsutil unless `replaceExisting` (fsutil
 *   AlwaysReplaceExistingDestPaths; what a `COPY --link` merge amounts to).
 * - writeInlineFiles(root, dest, files, { uid, gid, mode }): heredoc sources (llb.Mkfile 0644 in scratch, then a
 *   copy): into `dest/<name>` when dest ends with `/` or is a directory, else at dest; `mode` is `--chmod`.
 * - makeWorkdir(root, dir, owner, { time }): MkdirAll 0755 of the resolved dir, owner on what it creates.
 * - extractIfArchive (archive.ts) and fetchUrl (fetch.ts) are re-exported.
 *
 * Not done: xattrs of copied files (fsutil copies them best-effort), include/exclude patterns (selectCopy's job),
 * `--chmod` in symbolic form, a fixed timestamp (SOURCE_DATE_EPOCH). Times are set to the microsecond or so that
 * a double holds, not to the nanosecond.
 */
import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CopyEntry, Owner } from '../context/select.js';
import { FileOpError } from './fileops-errors.js';
import { inImage, lstatOrNone, mkdirAllIn, resolveInRoot, timesOf } from './fileops-paths.js';

export { resolveInRoot } from './fileops-paths.js';
export { extractIfArchive, isArchive } from './archive.js';
export { fetchUrl, type FetchedFile } from './fetch.js';

export interface ApplyCopyOptions {
  readonly signal?: AbortSignal | undefined;
  /** `--chown`: the owner of the directories made on the way to a destination (default: the builder's, 0:0). */
  readonly chown?: Owner | undefined;
  /** `--chmod`: the mode of those directories (fsutil uses the --chmod mode since 2025; default 0755). */
  readonly chmod?: number | undefined;
  /** Replace an existing path of the other kind (directory vs not) instead of failing. */
  readonly replaceExisting?: boolean | undefined;
}

interface OpenDir {
  readonly entry: CopyEntry;
  readonly host: string;
  readonly src: BigIntStats;
  /** The destination of a directory source (only its times are set), not a directory below one. */
  readonly top: boolean;
}

const parentOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.');

/** Whether `e` was walked directly below the directory entry `dir` (so it is joined to dir, not resolved). */
function isChild(dir: CopyEntry, e: CopyEntry): boolean {
  return e.source !== '.' && parentOf(e.source) === dir.source && path.posix.dirname(e.dest) === dir.dest && e.dest !== dir.dest;
}

/** Owner, mode (not on a symlink) and the source's times, in fsutil's order (chown first: it clears setuid). */
async function applyMeta(host: string, e: CopyEntry, src: BigIntStats): Promise<void> {
  await lchown(host, e.uid, e.gid);
  if (e.type !== 'symlink') await chmod(host, e.mode & 0o7777);
  await lutimes(host, ...timesOf(src));
}

/** Makes room for a non-directory at `host` (fsutil ensureEmptyFileTarget). */
async function clearForFile(root: string, host: string, replace: boolean): Promise<void> {
  const st = await lstatOrNone(host);
  if (st === undefined) return;
  if (st.isDirectory() && !replace) throw new FileOpError(inImage(root, host), 'cannot replace a directory with a file');
  await rm(host, { recursive: true, force: true });
}

/**
 * Writes `entries` (selectCopy's, read from `sourceDir`) into `root`; see the module header for the rules. Entries
 * must be in selectCopy's order (a directory before what it holds).
 */
export async function applyCopy(root: string, sourceDir: string, entries: readonly CopyEntry[], opts: ApplyCopyOptions = {}): Promise<void> {
  const replace = opts.replaceExisting === true;
  const dirPerm = (opts.chmod ?? 0o755) & 0o777;
  const stack: OpenDir[] = [];
  const inodes = new Map<string, string>();
  const close = async (keep: number): Promise<void> => {
    while (stack.length > keep) {
      const d = stack.pop()!;
      if (d.top) await lutimes(d.host, ...timesOf(d.src));
      else await applyMeta(d.host, d.entry, d.src);
    }
  };

  for (const e of entries) {
    opts.signal?.throwIfAborted();
    const srcPath = path.join(sourceDir, e.source);
    const src = await lstat(srcPath, { bigint: true });
    let parent = -1;
    if (e.sourceRoot !== true) {
      for (let i = stack.length - 1; i >= 0 && parent < 0; i--) if (isChild(stack[i]!.entry, e)) parent = i;
    }
    await close(parent + 1);

    let host: string;
    if (parent < 0) {
      // A top-level destination: resolved through symlinks, its parents (or itself, for a directory) made.
      host = await resolveInRoot(root, e.dest);
      if (e.type === 'dir') {
        const st = await lstatOrNone(host);
        if (st !== undefined && !st.isDirectory()) {
          if (!replace) throw new FileOpError(e.dest, 'cannot copy a directory onto a non-directory');
          await rm(host, { force: true });
        }
        await mkdirAllIn(root, host, dirPerm, opts.chown);
        stack.push({ entry: e, host, src, top: true });
        continue;
      }
      await mkdirAllIn(root, path.dirname(host), dirPerm, opts.chown);
    } else {
      host = path.join(stack[parent]!.host, path.posix.basename(e.dest));
      if (e.type === 'dir') {
        let st = await lstatOrNone(host);
        if (st !== undefined && !st.isDirectory()) {
          if (!replace) throw new FileOpError(e.dest, 'cannot copy a directory onto a non-directory');
          await rm(host, { force: true });
          st = undefined;
        }
        // Made private first; the entry's mode is set once its contents are in.
        if (st === undefined) await mkdir(host, { mode: 0o700 });
        stack.push({ entry: e, host, src, top: false });
        continue;
      }
    }

    await clearForFile(root, host, replace);
    if (e.type === 'file') {
      const key = src.nlink > 1n ? `${src.dev}:${src.ino}` : undefined;
      const first = key === undefined ? undefined : inodes.get(key);
      if (first !== undefined) {
        await link(first, host);
      } else {
        // EXCL: the path was just cleared; never write through a symlink planted there.
        await copyFile(srcPath, host, constants.COPYFILE_EXCL);
        if (key !== undefined) inodes.set(key, host);
      }
    } else {
      await symlink(e.linkTarget ?? (await readlink(srcPath)), host);
    }
    await applyMeta(host, e, src);
  }
  await close(0);
}

/** The directory BuildKit's copy makes before a single source lands at `dest` (fsutil Copy: `ensureDstPath`). */
function ensureDirOf(dest: string): string {
  return dest.endsWith('/') || dest.endsWith('/.') || dest === '.' || dest === '' ? dest : path.posix.dirname(path.posix.resolve('/', dest));
}

/**
 * COPY/ADD heredocs: each file goes to `dest/<basename>` when dest ends with `/` or is a directory in the image,
 * else to dest itself; mode `opts.mode` (`--chmod`) or 0644, owner uid:gid; missing directories made as by
 * applyCopy (mode `--chmod` or 0755, owner uid:gid). An existing file is replaced, a directory is not.
 */
export async function writeInlineFiles(
  root: string,
  dest: string,
  files: readonly { path: string; content: string }[],
  opts: { uid: number; gid: number; mode?: number | undefined },
): Promise<void> {
  const owner = { uid: opts.uid, gid: opts.gid };
  const dirPerm = (opts.mode ?? 0o755) & 0o777;
  for (const f of files) {
    await mkdirAllIn(root, await resolveInRoot(root, ensureDirOf(dest)), dirPerm, owner);
    let host = await resolveInRoot(root, dest);
    const st = await stat(host).catch(() => undefined);
    if (st?.isDirectory() === true) host = path.join(host, path.posix.basename(path.posix.resolve('/', f.path)));
    await clearForFile(root, host, false);
    await writeFile(host, f.content, { mode: 0o600, flag: 'wx' });
    await lchown(host, owner.uid, owner.gid);
    await chmod(host, (opts.mode ?? 0o644) & 0o7777);
  }
}

/**
 * WORKDIR: makes `dir` (resolved in root through symlinks) and its missing parents, 0755, owned by `owner` (the
 * stage's user; BuildKit's llb.Mkdir WithParents WithUser), dated `opts.time` when given (SOURCE_DATE_EPOCH).
 * Existing directories are left as they are. Returns whether anything was made.
 */
export async function makeWorkdir(root: string, dir: string, owner: Owner, opts: { time?: Date } = {}): Promise<boolean> {
  const host = await resolveInRoot(root, dir);
  return (await mkdirAllIn(root, host, 0o755, owner, opts.time)).length > 0;
}
