/**
 * Crash-safe writes (write a temp file, fsync, rename) and JSON reads that tolerate a missing file; the sweep of
 * temp files that writers killed between open and rename (kill -9) left behind.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isErrno, isMissing } from '../errors.js';
import { pidAlive } from './proc.js';

/** writeFileAtomic's temp names: `.<name>.tmp-<pid>-<8 hex>`, beside the target. */
const ATOMIC_TEMP = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/;

/** The pid of the writer of a writeFileAtomic temp file named `name`, undefined for any other name. */
export function atomicTempWriter(name: string): number | undefined {
  const m = ATOMIC_TEMP.exec(name);
  return m ? Number(m[2]) : undefined;
}

/**
 * Replaces `file` (and makes its directory if missing) so that readers see the old content or the new, whole.
 * `durable: false` skips the fsync, for files that need not survive a crash (a dead process's lease is swept).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
  // A hidden temp name with the writer's pid (ATOMIC_TEMP), in the same directory (rename is atomic within a filesystem).
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(tmp, 'w', 0o644);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    await fs.mkdir(path.dirname(file), { recursive: true });
    fh = await fs.open(tmp, 'w', 0o644);
  }
  try {
    try {
      await fh.writeFile(data);
      if (opts.durable !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    // A write cut off (a full disk) or a failed rename: no temp file left behind.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** writeFileAtomic of `value` as JSON (one-space indent, a trailing newline). */
export async function writeJsonAtomic(file: string, value: unknown, opts: { durable?: boolean } = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 1)}\n`, opts);
}

/** `file` parsed as JSON, or undefined when it (or a directory on its path) does not exist. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    // Synchronous: these are small files (records, indexes), and a read through the thread pool (open, fstat, read,
    // close) cost the main thread more than the read itself.
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

/**
 * The writeFileAtomic temp files directly in `dir` whose writer is gone (its pid dead: killed between open and
 * rename), as paths; none when `dir` does not exist. A live writer's temp file is its write under way.
 */
export async function staleAtomicTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if (isMissing(e) || isErrno(e, 'ENOTDIR')) return [];
    throw e;
  }
  return names
    .filter((n) => {
      const pid = atomicTempWriter(n);
      return pid !== undefined && !pidAlive(pid);
    })
    .map((n) => path.join(dir, n));
}

/**
 * Removes staleAtomicTemps(dir) (one readdir when there are none): for the owner of a directory, under the lock it
 * takes to write there anyway. Returns the paths removed.
 */
export async function sweepAtomicTemps(dir: string): Promise<string[]> {
  const stale = await staleAtomicTemps(dir);
  for (const f of stale) await fs.rm(f, { force: true });
  return stale;
}
