/**
 * Secure join: resolve a path inside a container rootfs the way runc's `filepath-securejoin` (`SecureJoinVFS`)
 * does — every component is `lstat`ed, symlinks (absolute or relative) are expanded relative to the rootfs, `..` is
 * clamped at the rootfs, and at most 255 links are followed. The result is a host path that is lexically inside
 * `root` (CVE-2018-15664). Components that do not exist are kept as they are (the caller may create them).
 *
 * Like runc's, this is a lexical guarantee at the time of the call: a concurrent writer in the rootfs can still swap
 * a component for a symlink afterwards, so only use the result on rootfs trees no container is running in, or
 * re-check after opening.
 */
import { lstat, readlink } from 'node:fs/promises';
import { lstatSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../errors.js';

/** Symlinks followed before giving up with ELOOP (runc: 255). */
export const MAX_SYMLINKS = 255;

function isNotExist(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The shared algorithm: yields each host path to examine, receives its link target (if it is a symlink). */
function* joinSteps(root: string, unsafePath: string): Generator<string, string, { link?: string } | undefined> {
  const cleanRoot = path.resolve(root);
  let resolved = ''; // rootfs-relative, '/'-separated, each component followed by '/'
  let rest = unsafePath;
  let links = 0;
  while (rest !== '') {
    const i = rest.indexOf('/');
    let part: string;
    if (i === -1) {
      part = rest;
      rest = '';
    } else {
      part = rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
    // Scoped lexical clean: `..` cannot climb above `/`.
    const cleanP = path.posix.normalize('/' + resolved + part);
    if (cleanP === '/') {
      resolved = '';
      continue;
    }
    const full = cleanRoot === '/' ? cleanP : cleanRoot + cleanP;
    // Ask the driver: is `full` a symlink? (undefined → not a link or missing)
    const answer = yield full;
    if (answer?.link === undefined) {
      // Keep the cleaned form so `..` components are resolved lexically against what was already resolved.
      resolved = cleanP.slice(1) + '/';
      continue;
    }
    links++;
    if (links > MAX_SYMLINKS) {
      throw new TsComposeError('TSC_SECURE_JOIN', `secure join ${unsafePath} in ${root}: too many levels of symbolic links`);
    }
    const dest = answer.link;
    if (dest.startsWith('/')) resolved = '';
    rest = rest === '' ? dest : dest + '/' + rest;
  }
  const finalPath = path.posix.normalize('/' + resolved).replace(/\/+$/, '');
  return finalPath === '' ? cleanRoot : path.join(cleanRoot, finalPath);
}

/**
 * `root` joined with `unsafePath`, with every symlink resolved inside `root`. Never returns a path outside `root`.
 * Errors other than "does not exist" (EACCES, …) are thrown as they come.
 */
export async function secureJoin(root: string, unsafePath: string): Promise<string> {
  const it = joinSteps(root, unsafePath);
  let next = it.next();
  while (!next.done) {
    const full = next.value;
    let link: string | undefined;
    try {
      const st = await lstat(full);
      if (st.isSymbolicLink()) link = await readlink(full);
    } catch (err) {
      if (!isNotExist(err)) throw err;
    }
    next = it.next(link === undefined ? undefined : { link });
  }
  return next.value;
}

/** Synchronous `secureJoin`. */
export function secureJoinSync(root: string, unsafePath: string): string {
  const it = joinSteps(root, unsafePath);
  let next = it.next();
  while (!next.done) {
    const full = next.value;
    let link: string | undefined;
    try {
      const st = lstatSync(full);
      if (st.isSymbolicLink()) link = readlinkSync(full);
    } catch (err) {
      if (!isNotExist(err)) throw err;
    }
    next = it.next(link === undefined ? undefined : { link });
  }
  return next.value;
}

/** Whether `p` is `root` or lexically below it. */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
}
