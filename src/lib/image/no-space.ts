/**
 * A full disk (ENOSPC, or EDQUOT: a quota) while the image store or a build writes: one typed error, TSC_NO_SPACE,
 * naming what was being written, the directory and its filesystem (mount point, type, free space), with a hint.
 * The store's writes are atomic (a blob or layer appears only by a rename of a complete one), so what a full disk
 * leaves is scratch of this process (removed on the way out) or temp files its next store sweeps (layout.ts).
 */
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CodedError, errnoCode, type CodedErrorOptions } from '../errors.js';

const NO_SPACE_TEXT = /\b(?:ENOSPC|EDQUOT)\b|No space left on device|Disk quota exceeded/i;

/** Whether `e` (or an error in its cause chain) says the disk or a quota is full. */
export function isNoSpace(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 10; c = c.cause, depth++) {
    if (c instanceof NoSpaceError) return true;
    const code = errnoCode(c);
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
    if (NO_SPACE_TEXT.test(c.message)) return true;
  }
  return false;
}

/** The filesystem holding `dir`: its mount point and type (from /proc/self/mountinfo), size and free bytes. */
export interface FilesystemInfo {
  readonly mountPoint: string;
  readonly type: string;
  readonly sizeBytes?: number;
  readonly freeBytes?: number;
}

function unescape(p: string): string {
  return p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export async function filesystemOf(dir: string): Promise<FilesystemInfo> {
  let best = { mountPoint: '/', type: 'unknown' };
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      const mp = unescape(f[4] ?? '');
      const type = f[f.indexOf('-') + 1] ?? 'unknown';
      if (mp === '' || !(dir === mp || dir.startsWith(mp === '/' ? '/' : `${mp}/`))) continue;
      if (mp.length >= best.mountPoint.length) best = { mountPoint: mp, type };
    }
  } catch {
    /* no /proc: the root */
  }
  // the directory itself may not exist (yet, or any more): its nearest parent that does
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await statfs(d);
      return { ...best, sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch {
      if (d === dirname(d)) return best;
    }
  }
}

/** Sizes as df -h shows them: `0B`, `512K`, `39.8M`, `1.2G`. */
export function shortSize(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 10 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}

/** The disk (or a quota) filled up while writing `dir`. */
export class NoSpaceError extends CodedError {
  readonly what: string;
  readonly dir: string;
  readonly filesystem: FilesystemInfo;
  /** `detail`: what failed, in the words of the error it replaces (`extracting layer sha256:…: ENOSPC: …`). */
  constructor(what: string, dir: string, filesystem: FilesystemInfo, options: CodedErrorOptions & { detail?: string | undefined } = {}) {
    const free =
      filesystem.freeBytes !== undefined && filesystem.sizeBytes !== undefined
        ? `, ${shortSize(filesystem.freeBytes)} of ${shortSize(filesystem.sizeBytes)} free now`
        : '';
    const detail = options.detail ? `: ${options.detail}` : '';
    super(
      'TSC_NO_SPACE',
      `${what}: no space left on device writing to ${dir} (${filesystem.type} filesystem on ${filesystem.mountPoint}${free})${detail}`,
      {
        hint:
          options.hint ??
          `free space on ${filesystem.mountPoint} (tscompose image prune -a, builder prune -a, or outside tscompose) or move the state directory ` +
            '(TSCOMPOSE_STATE_DIR) to a larger filesystem, then retry: what was half-written has been removed',
        cause: options.cause,
        exitCode: options.exitCode,
      },
    );
    this.what = what;
    this.dir = dir;
    this.filesystem = filesystem;
  }
}

/** The NoSpaceError for `e` (kept when it already is one), `what` saying what was being done. */
export async function noSpaceError(e: unknown, what: string, dir: string, options: CodedErrorOptions = {}): Promise<NoSpaceError> {
  if (e instanceof NoSpaceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const detail = message.startsWith(`${what}: `) ? message.slice(what.length + 2) : message;
  return new NoSpaceError(what, dir, await filesystemOf(dir), { cause: e, detail, ...options });
}

/** Runs `fn`; a full disk becomes a NoSpaceError (`what` writing to `dir`), other errors pass unchanged. */
export async function mapNoSpace<T>(what: string, dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as Error | undefined)?.name === 'AbortError' || !isNoSpace(e)) throw e;
    throw await noSpaceError(e, what, dir);
  }
}
