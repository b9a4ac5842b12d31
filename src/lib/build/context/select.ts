/**
 * What a `COPY`/`ADD` from the build context selects, with BuildKit's rules (frontend/dockerfile/dockerfile2llb
 * `dispatchCopy`, which copies with FollowSymlinks, CopyDirContentsOnly, AllowWildcard and AllowEmptyWildcard;
 * tonistiigi/fsutil copy `Copy`/`prepareTargetDir`; the Dockerfile reference, "COPY"):
 * - a source is relative to the context and cannot leave it: it is joined to `/` and cleaned, so `../x` is `x`;
 * - globs as glob.ts; a glob that matches nothing selects nothing (BuildKit; the classic builder fails);
 * - the source path itself is followed through symlinks, resolved inside the context as if it were `/`; symlinks
 *   below a copied directory are copied as links;
 * - a directory source copies its contents (and its own metadata onto the destination directory), not itself;
 * - a file goes to `dest/<name>` when the destination ends with `/` (or is `.`, or is an existing directory in the
 *   image, `destIsDir`), else to `dest` itself;
 * - several sources (after glob expansion) into a destination that is not a directory are refused with the classic
 *   builder's message (BuildKit would copy each onto the same path; refusing is the safer of the two);
 * - paths excluded by `.dockerignore` are not in the context, so they are never selected;
 * - owners are 0:0 unless `--chown` (the Dockerfile reference: "All new files and directories are created with a
 *   UID and GID of 0, unless the optional --chown flag specifies…"); `preserveOwner` keeps the source's (for a
 *   `COPY --from` of another stage); `--chmod` sets the permission bits of files and directories, not of links.
 * Hard links are listed as separate files; FIFOs, sockets and devices in the context are skipped.
 */
import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from '../../errors.js';
import { ContextPatternError, CopyDestinationError, CopySourceError } from './errors.js';
import { globToRegExp, splitWildcards } from './glob.js';
import { cleanPath, type DockerIgnore } from './ignore.js';
import { walkContext } from './walk.js';

export type EntryType = 'file' | 'dir' | 'symlink';

/** A numeric owner. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** One path a `COPY`/`ADD` writes into the image. */
export interface CopyEntry {
  /** Where to read it: posix path relative to the context (`.` for the root), symlinks of the source resolved. */
  readonly source: string;
  /** Absolute posix path in the image. */
  readonly dest: string;
  readonly type: EntryType;
  /** Permission bits with setuid/setgid/sticky (`mode & 0o7777`), `--chmod` applied. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of a file; 0 for directories and symlinks. */
  readonly size: number;
  /** A symlink's target, as written. */
  readonly linkTarget?: string;
  /**
   * True on the directory a directory source names: its metadata goes onto `dest` when the builder creates it
   * (fsutil copies it onto a new directory, leaves an existing one as it is).
   */
  readonly sourceRoot?: boolean;
}

export interface SelectOptions {
  /** The context directory (absolute, or relative to the working directory). */
  readonly context: string;
  /** The sources as written after variable expansion. */
  readonly sources: readonly string[];
  /** The destination, absolute in the image (the front end resolves it against WORKDIR), trailing `/` kept. */
  readonly dest: string;
  readonly ignore?: DockerIgnore | undefined;
  /** Whether `dest` already is a directory in the image (then files go into it even without a trailing `/`). */
  readonly destIsDir?: boolean | undefined;
  /** `--chown`, resolved (see parseChown). */
  readonly chown?: Owner | undefined;
  /** `--chmod`, as permission bits (see parseChmod). */
  readonly chmod?: number | undefined;
  /** Keep the sources' owners when there is no `--chown` (a `COPY --from` of a stage); default: 0:0. */
  readonly preserveOwner?: boolean | undefined;
  /** The instruction's name for messages (`COPY`, `ADD`). */
  readonly instruction?: string | undefined;
}

const MAX_LINKS = 255;

/** A source cleaned as BuildKit does: joined to `/`, cleaned, relative again (`.` for the root). */
export function cleanSource(src: string): string {
  const p = path.posix.join('/', src).replace(/^\/+/, '');
  return p === '' ? '.' : cleanPath(p);
}

function present(ignore: DockerIgnore | undefined, rel: string, stats: Stats): boolean {
  if (rel === '.' || ignore === undefined || !ignore.ignores(rel)) return true;
  // An excluded directory is in the context only as the parent of something re-included (walk.ts).
  return stats.isDirectory() && ignore.mayIncludeBelow(rel);
}

/**
 * Resolves `rel` inside the context as containerd's `fs.RootPath`: each symlink on the way (the last one too when
 * `followLast`) is read and its target resolved within the context (absolute targets from its root, `..` never
 * above it). Undefined when a component is missing or excluded.
 */
export async function resolveInContext(
  context: string,
  rel: string,
  ignore: DockerIgnore | undefined,
  followLast = true,
): Promise<{ rel: string; stats: Stats } | undefined> {
  const todo = rel === '.' ? [] : rel.split('/');
  const done: string[] = [];
  let links = 0;
  let stats = await lstat(context);
  while (todo.length > 0) {
    const comp = todo.shift()!;
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      done.pop();
      stats = await lstat(path.join(context, ...done));
      continue;
    }
    const cand = [...done, comp].join('/');
    try {
      stats = await lstat(path.join(context, cand));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    if (!present(ignore, cand, stats)) return undefined;
    if (stats.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > MAX_LINKS) throw new CopySourceError(rel, 'too many levels of symbolic links');
      const target = await readlink(path.join(context, cand));
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/'));
      continue;
    }
    done.push(comp);
  }
  const out = done.length === 0 ? '.' : done.join('/');
  if (done.length === 0) stats = await lstat(context);
  return { rel: out, stats };
}

/** The paths a source selects, before symlinks of the matches are followed (`[]` for a glob with no match). */
export async function expandSource(context: string, src: string, ignore?: DockerIgnore): Promise<string[]> {
  const rel = cleanSource(src);
  const { base, pattern } = splitWildcards(rel);
  if (pattern === '') return [rel];
  const resolved = await resolveInContext(context, base, ignore);
  // fsutil walks the base: a missing one is an error, a file one has no matches.
  if (resolved === undefined) throw new CopySourceError(base);
  if (!resolved.stats.isDirectory()) return [];
  const re = globToRegExp(pattern);
  const depth = pattern.split('/').length;
  const entries = await walkContext(context, ignore, resolved.rel, depth);
  const prefix = resolved.rel === '.' ? '' : `${resolved.rel}/`;
  const out: string[] = [];
  let skip: string | undefined;
  for (const e of entries) {
    if (skip !== undefined && e.rel.startsWith(skip)) continue;
    skip = undefined;
    const below = e.rel.slice(prefix.length);
    if (!re.test(below)) continue;
    // Report the match under the path as written (base unresolved), as fsutil does.
    out.push(base === '.' ? below : `${base}/${below}`);
    if (e.stats.isDirectory()) skip = `${e.rel}/`;
  }
  return out;
}

function typeOf(stats: Stats): EntryType | undefined {
  if (stats.isDirectory()) return 'dir';
  if (stats.isFile()) return 'file';
  if (stats.isSymbolicLink()) return 'symlink';
  return undefined;
}

/** Everything a `COPY`/`ADD` of `options.sources` to `options.dest` writes, in copy order. */
export async function selectCopy(options: SelectOptions): Promise<CopyEntry[]> {
  const context = path.resolve(options.context);
  const { ignore, chown, chmod } = options;
  const instruction = options.instruction ?? 'COPY';
  const rawDest = options.dest;
  const destAbs = cleanPath(path.posix.join('/', rawDest));
  const destIsDir = rawDest === '' || rawDest === '.' || rawDest.endsWith('/') || rawDest.endsWith('/.') || options.destIsDir === true;

  const matches: { written: string; rel: string; stats: Stats }[] = [];
  for (const src of options.sources) {
    for (const written of await expandSource(context, src, ignore)) {
      const resolved = await resolveInContext(context, written, ignore);
      if (resolved === undefined) throw new CopySourceError(written);
      matches.push({ written, ...resolved });
    }
  }
  if (matches.length > 1 && !destIsDir) {
    throw new CopyDestinationError(
      rawDest,
      `When using ${instruction} with more than one source file, the destination must be a directory and end with a /`,
    );
  }

  const entry = async (rel: string, dest: string, stats: Stats, extra: { sourceRoot?: true } = {}): Promise<CopyEntry | undefined> => {
    const type = typeOf(stats);
    if (type === undefined) return undefined;
    const owner = chown ?? (options.preserveOwner === true ? { uid: stats.uid, gid: stats.gid } : { uid: 0, gid: 0 });
    const mode = chmod !== undefined && type !== 'symlink' ? chmod & 0o7777 : stats.mode & 0o7777;
    return {
      source: rel,
      dest,
      type,
      mode,
      uid: owner.uid,
      gid: owner.gid,
      size: type === 'file' ? stats.size : 0,
      ...(type === 'symlink' ? { linkTarget: await readlink(path.join(context, rel)) } : {}),
      ...extra,
    };
  };

  const out: CopyEntry[] = [];
  for (const m of matches) {
    if (m.stats.isDirectory()) {
      const root = await entry(m.rel, destAbs, m.stats, { sourceRoot: true });
      if (root) out.push(root);
      const prefix = m.rel === '.' ? '' : `${m.rel}/`;
      for (const e of await walkContext(context, ignore, m.rel)) {
        const made = await entry(e.rel, path.posix.join(destAbs, e.rel.slice(prefix.length)), e.stats);
        if (made) out.push(made);
      }
    } else {
      const dest = destIsDir ? path.posix.join(destAbs, path.posix.basename(m.written)) : destAbs;
      const made = await entry(m.rel, dest, m.stats);
      if (made) out.push(made);
    }
  }
  return out;
}

/**
 * `--chown=user[:group]`: numeric parts taken as they are (a user without a group gives gid = uid, the Dockerfile
 * reference); names go through `resolve` (the builder reads the image's /etc/passwd and /etc/group).
 */
export async function parseChown(spec: string, resolve?: (user: string, group: string | undefined) => Owner | Promise<Owner>): Promise<Owner> {
  const [user = '', group, ...rest] = spec.split(':');
  if (user === '' || rest.length > 0 || group === '') throw new ContextPatternError(spec, 'expected --chown=<user>[:<group>]');
  const num = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined);
  const uid = num(user);
  const gid = group === undefined ? uid : num(group);
  if (uid !== undefined && gid !== undefined) return { uid, gid };
  if (resolve === undefined) throw new ContextPatternError(spec, 'user and group names need the image to resolve them');
  return resolve(user, group);
}

/** `--chmod=<octal>` as permission bits (symbolic modes are not taken). */
export function parseChmod(spec: string): number {
  if (!/^[0-7]{1,4}$/.test(spec)) throw new ContextPatternError(spec, 'expected an octal mode such as 755');
  return parseInt(spec, 8);
}
