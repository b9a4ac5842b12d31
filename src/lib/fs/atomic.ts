/** Crash-safe writes (write a temp file, fsync, rename) and JSON reads that tolerate a missing file. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isErrno, isMissing } from '../errors.js';

/**
 * Replaces `file` (and makes its directory if missing) so that readers see the old content or the new, whole.
 * `durable: false` skips the fsync, for files that need not survive a crash (a dead process's lease is swept).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
  // A hidden temp name with the writer's pid, in the same directory (rename is atomic within a filesystem).
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
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}
