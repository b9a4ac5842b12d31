/**
 * Small filesystem tools of the native runtime's state directory: crash-safe writes (write a temp file, fsync,
 * rename), JSON reads that tolerate a missing file, and an inter-process lock.
 *
 * The lock is a directory made with mkdir (atomic on every local filesystem) holding the owner's pid. A lock
 * whose owner is gone (killed CLI) is stale and taken over, so a `kill -9` never wedges later commands.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  // A hidden temp name with the writer's pid, in the same directory (rename is atomic within a filesystem).
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(tmp, 'w', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await fs.mkdir(path.dirname(file), { recursive: true });
    fh = await fs.open(tmp, 'w', 0o644);
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 1)}\n`);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

export function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Whether a process with that pid exists (EPERM counts as alive; a zombie too). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie. */
export function processRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state !== 'Z';
  } catch {
    return false;
  }
}

/**
 * /proc/PID/stat: the command name (field 2, in parentheses, may itself hold spaces and parentheses), the state
 * (field 3), and `fields`, the space-separated fields from the state on (`fields[n - 3]` is field n).
 */
export function parseProcStat(stat: string): { comm: string; state: string; fields: string[] } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0] ?? '', fields };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per lock path, the end of this process's queue for it. */
const localQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the lock `dir` (a directory path). Waits (polling) while another live process holds it; takes
 * over a lock whose holder died. Callers in this process queue on a promise first, so the next one starts as soon
 * as the previous one is done instead of at its next poll (up to 50 ms later; `down` of 20 containers in parallel
 * chains spent most of its time so). Re-entrant use is NOT supported: keep critical sections short.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const previous = localQueues.get(dir) ?? Promise.resolve();
  const mine = previous.then(
    () => withFileLock(dir, fn, timeoutMs),
    () => withFileLock(dir, fn, timeoutMs),
  );
  const tail = mine.catch(() => undefined);
  localQueues.set(dir, tail);
  try {
    return await mine;
  } finally {
    if (localQueues.get(dir) === tail) localQueues.delete(dir);
  }
}

async function withFileLock<T>(dir: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const started = Date.now();
  let delay = 2;
  for (;;) {
    try {
      await fs.mkdir(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        await fs.mkdir(path.dirname(dir), { recursive: true });
        continue;
      }
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(await fs.readFile(path.join(dir, 'pid'), 'utf8').catch(() => ''));
    if (owner === 0) {
      // Being written right now, or its holder died between mkdir and writing the pid: give it a moment.
      const st = await fs.stat(dir).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 2000) await fs.rm(dir, { recursive: true, force: true });
    } else if (!pidAlive(owner)) {
      // Take the stale lock over atomically: only one waiter's rename succeeds, and only while it still names
      // the dead owner (a lock re-taken meanwhile has another pid and is left alone).
      const grave = `${dir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await fs.rename(dir, grave);
        const again = Number(await fs.readFile(path.join(grave, 'pid'), 'utf8').catch(() => ''));
        if (again !== owner && again !== 0 && pidAlive(again)) {
          // We moved a live lock: put it back if the name is still free, else its holder already lost it.
          await fs.rename(grave, dir).catch(() => undefined);
        }
        await fs.rm(grave, { recursive: true, force: true });
      } catch {
        /* another waiter took it over first */
      }
      continue;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the lock ${dir} (held by pid ${owner})`);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    await fs.writeFile(path.join(dir, 'pid'), String(process.pid));
  } catch (e) {
    if (!isMissing(e)) throw e;
    return withFileLock(dir, fn, Math.max(1000, timeoutMs - (Date.now() - started))); // lost it before writing the pid
  }
  try {
    return await fn();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
