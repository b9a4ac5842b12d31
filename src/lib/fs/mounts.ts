/**
 * Mount points and overlay mounts on this host, with the `mount`/`umount` binaries (util-linux): what is mounted
 * where (from /proc/self/mountinfo, octal escapes undone), an overlay of read-only lower directories with an
 * optional upper and work directory, and the unmounting of everything below a directory, deepest first.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CodedError } from '../errors.js';

const execFileP = promisify(execFile);

/** A mount or unmount that failed. */
export class MountError extends CodedError {
  constructor(detail: string) {
    super('TSC_MOUNT', detail, { hint: 'mounting needs root and overlayfs; the directory must not itself be on overlayfs' });
  }
}

function unescapeMountinfo(p: string): string {
  return p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/**
 * The mount points in this mount namespace; with `near`, only when the table names that path (else none): every mount
 * point under a directory has the directory's path in its line, and mountinfo escapes only space, tab, newline and
 * backslash. With 100 containers up the table is ~40 KB (~125 lines); splitting and unescaping every line for each
 * question cost as much as the kernel's making of it.
 */
function mountPoints(near?: string): string[] {
  // Synchronous: the kernel makes the text on read (no disk), and a native `down` asks about each container; each
  // read through the thread pool (open, fstat, reads, close) cost the main thread more than the read itself.
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  if (near !== undefined && !/[ \t\n\\]/.test(near) && !text.includes(near)) return [];
  return text.split('\n').map((l) => unescapeMountinfo(l.split(' ')[4] ?? ''));
}

/** Whether `target` is a mount point in this mount namespace. */
export async function isMounted(target: string): Promise<boolean> {
  return mountPoints(target).includes(target);
}

/**
 * Whether `target` is on another device than its parent directory, so certainly the root of a mount (an overlay, a
 * tmpfs), found without the mount table. False says nothing: a bind mount within one file system keeps the device.
 */
export function onOwnDevice(target: string): boolean {
  try {
    return statSync(target).dev !== statSync(path.dirname(target)).dev;
  } catch {
    return false;
  }
}

/** Mount points in this mount namespace under `dir` (itself included), deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return mountPoints(dir)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export interface OverlayDirs {
  /** The `lowerdir=` value (top layer first, `:`-separated), relative to `cwd` when given (keeps options short). */
  readonly lowerdir: string;
  readonly cwd?: string | undefined;
  /** Absent with `work`: a read-only overlay (it then needs two lower directories or more). */
  readonly upper?: string | undefined;
  readonly work?: string | undefined;
}

/** Mounts an overlay at `target` (created when missing). */
export async function mountOverlay(target: string, dirs: OverlayDirs): Promise<void> {
  await mkdir(target, { recursive: true });
  let opts = `lowerdir=${dirs.lowerdir}`;
  if (dirs.upper !== undefined && dirs.work !== undefined) {
    await Promise.all([mkdir(dirs.upper, { recursive: true }), mkdir(dirs.work, { recursive: true })]);
    opts += `,upperdir=${dirs.upper},workdir=${dirs.work}`;
  }
  try {
    await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', opts, target], dirs.cwd !== undefined ? { cwd: dirs.cwd } : {});
  } catch (e) {
    throw new MountError(`cannot mount an overlay at ${target}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
  }
}

/** Bind-mounts `source` at `target` (read-only with `readOnly`). */
export async function bindMount(source: string, target: string, readOnly = false): Promise<void> {
  try {
    await execFileP('mount', ['--bind', source, target]);
    if (readOnly) await execFileP('mount', ['-o', 'remount,bind,ro', target]);
  } catch (e) {
    throw new MountError(`cannot bind ${source} at ${target}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
  }
}

/** Unmounts everything mounted under `dir` (itself included), deepest first; lazily when a mount stays busy. */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    if (round < 4) await execFileP('umount', points).catch(() => undefined);
    else for (const p of points) await execFileP('umount', ['-l', p]).catch(() => undefined);
    if (round > 0) await sleep(100);
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new MountError(`cannot unmount ${left.join(', ')}`);
}
