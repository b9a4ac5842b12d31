/**
 * A native container's log files and their rotation (compose `logging`).
 *
 * The policy: `none` keeps nothing; json-file, local (and any other driver, warned about by key-support) keep the
 * log in files. `max-size` (Docker's units: `10k` = 10240 bytes) bounds a file; `max-file` is how many files are
 * kept (json-file: 1, local: 5 with max-size 20m, as Docker's defaults).
 *
 * conmon writes the log. Its reopen (on its own `--log-size-max`, or when asked on its ctl FIFO) opens
 * `ctr.log.tmp` (O_CREAT|O_TRUNC) and renames it over `ctr.log`, which deletes the full file: with max-file 1
 * that is Docker's behaviour, and conmon's own size limit is used. To keep files, `ctr.log.tmp` is prepared
 * beforehand as a hard link of an empty numbered file and the current file has a number too: the rename then only
 * drops the name `ctr.log` of the full file, which stays as its `ctr.log.<seq>`. The log keeper
 * (./monitor/log-keeper.ts) prepares, asks conmon to reopen once the file reaches max-size, and prunes.
 *
 *   ctr.log          the current file (conmon appends; also `ctr.log.<seq>`)
 *   ctr.log.<seq>    kept files, oldest = lowest seq
 *   ctr.log.tmp      the prepared next file (`ctr.log.<seq+1>`, empty)
 */
import { closeSync, linkSync, openSync, promises as fs, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { isMissing } from '../../lib/errors.js';
import type { LoggingSpec } from '../spec.js';

export interface LogPolicy {
  /** `none`: conmon keeps nothing, `logs` cannot read. */
  readonly store: 'file' | 'none';
  /** Bytes per file; undefined = unbounded (one file). */
  readonly maxSize?: number;
  /** Files kept (>= 1). */
  readonly maxFile: number;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker's `units.RAMInBytes`: `10k`, `1m`, `1.5MB`, `100` (bytes); undefined when invalid. */
export function parseLogSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? NaN));
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * What is wrong with a json-file or local driver's `max-size`/`max-file`, in Docker's words (its logging driver
 * refuses them when the container starts); undefined when they are valid or not there.
 */
export function logOptionsProblem(logging: LoggingSpec | undefined): string | undefined {
  const driver = logging?.driver ?? 'json-file';
  if (driver !== 'json-file' && driver !== 'local') return undefined;
  const size = logging?.options?.['max-size'];
  if (size !== undefined && parseLogSize(size) === undefined) return `invalid size: '${size}'`;
  const files = logging?.options?.['max-file'];
  if (files !== undefined) {
    if (!/^[-+]?\d+$/.test(files)) return `strconv.Atoi: parsing ${JSON.stringify(files)}: invalid syntax`;
    if (Number(files) < 1) return 'max-file cannot be less than 1';
  }
  return undefined;
}

/** The log policy of a container's `logging` (valid options: see {@link logOptionsProblem}). */
export function logPolicy(logging: LoggingSpec | undefined): LogPolicy {
  const driver = logging?.driver ?? 'json-file';
  if (driver === 'none') return { store: 'none', maxFile: 1 };
  const opts = logging?.options ?? {};
  const local = driver === 'local';
  const size = opts['max-size'] === undefined ? undefined : parseLogSize(opts['max-size']);
  const maxSize = size !== undefined && size > 0 ? size : local ? 20 * 1024 ** 2 : undefined;
  const files = opts['max-file'] === undefined ? NaN : Number(opts['max-file']);
  const maxFile = Number.isInteger(files) && files >= 1 ? files : local ? 5 : 1;
  return maxSize === undefined ? { store: 'file', maxFile: 1 } : { store: 'file', maxSize, maxFile };
}

/** Whether files are kept across conmon's rotations (a keeper is needed while the container runs). */
export function keepsRotatedFiles(p: LogPolicy): boolean {
  return p.store === 'file' && p.maxSize !== undefined && p.maxFile >= 2;
}

export interface LogFile {
  readonly path: string;
  readonly ino: number;
  /** Its number; Infinity for a current file that has none yet. */
  readonly seq: number;
}

async function inode(file: string): Promise<{ ino: number; nlink: number } | undefined> {
  try {
    const st = await fs.stat(file);
    return { ino: st.ino, nlink: st.nlink };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function numbered(file: string): Promise<{ path: string; seq: number; ino: number }[]> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  const names = await fs.readdir(dir).catch((e: unknown) => {
    if (isMissing(e)) return [] as string[];
    throw e;
  });
  const out: { path: string; seq: number; ino: number }[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || !/^\d+$/.test(n.slice(prefix.length))) continue;
    const p = path.join(dir, n);
    const st = await inode(p);
    if (st) out.push({ path: p, seq: Number(n.slice(prefix.length)), ino: st.ino });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * The files of a log to read, oldest first, one entry per file: the numbered ones up to the one being written,
 * then the current one when it has no number yet.
 *
 * A reader that follows moves on to the last file listed, so a file newer than the one conmon writes (the prepared
 * next file, or a numbered file the keeper made and has not linked as `ctr.log.tmp` yet) must never be listed:
 * conmon may still append to the current one. The current file is therefore stat'ed first and the directory listed
 * after it: a rotation in between only adds files newer than that current one, which are left for the next call.
 */
export async function logFiles(file: string): Promise<LogFile[]> {
  const current = await inode(file);
  const segs = await numbered(file);
  const at = current ? segs.find((s) => s.ino === current.ino) : undefined;
  // The current file numbered: nothing newer than it. Without a number (no rotation kept, or not armed yet), or no
  // current file: not the prepared next one, and the current file last.
  const next = at ? undefined : await inode(`${file}.tmp`);
  const excluded = (s: LogFile): boolean => (at ? s.seq > at.seq : s.ino === next?.ino);
  const seen = new Set<number>();
  const out: LogFile[] = [];
  for (const s of segs) {
    if (excluded(s) || seen.has(s.ino)) continue;
    seen.add(s.ino);
    out.push(s);
  }
  if (current && !seen.has(current.ino)) out.push({ path: file, ino: current.ino, seq: Infinity });
  return out;
}

let lastSeq = 0;
/** A number for a new file, above those given before (by this process, or found): microseconds since the epoch. */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

function isExists(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'EEXIST';
}

/**
 * Prepares the log `file` for conmon's next reopen (see the module comment): a number for a current file that has
 * none, and the next file (`ctr.log.tmp`, empty, numbered). A few syscalls, no directory listing, synchronous (the
 * keeper's reaction time is how far a file can exceed max-size); safe while conmon writes, and never replaces a
 * `ctr.log.tmp` conmon may have just created (link(2) fails on an existing name).
 */
export function prepareNextLogFile(file: string): void {
  const tmp = `${file}.tmp`;
  closeSync(openSync(file, 'a', 0o640)); // conmon opens it O_APPEND|O_CREAT too
  if (statSync(file).nlink === 1) {
    try {
      linkSync(file, `${file}.${nextSeq()}`);
    } catch {
      /* rotated meanwhile: the next pass numbers the new one */
    }
  }
  if (statSync(tmp, { throwIfNoEntry: false })) return;
  const fresh = `${file}.${nextSeq()}`;
  closeSync(openSync(fresh, 'wx', 0o640));
  try {
    linkSync(fresh, tmp);
  } catch (e) {
    rmSync(fresh, { force: true });
    if (!isExists(e)) throw e;
  }
}

/** Deletes the oldest files of the log `file` beyond `maxFile` (the current one counts, the prepared one not). */
export async function pruneLogFiles(file: string, maxFile: number): Promise<void> {
  const nextIno = (await inode(`${file}.tmp`))?.ino;
  const segs = (await numbered(file)).filter((s) => s.ino !== nextIno);
  const top = segs[segs.length - 1];
  if (top) lastSeq = Math.max(lastSeq, top.seq);
  for (const s of segs.slice(0, Math.max(0, segs.length - maxFile))) await fs.rm(s.path, { force: true });
}

/** Both: what a start does before conmon, and the keeper after each reopen. Idempotent. */
export async function armLogFiles(file: string, maxFile: number): Promise<void> {
  prepareNextLogFile(file);
  await pruneLogFiles(file, maxFile);
}
