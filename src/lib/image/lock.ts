/**
 * A directory lock (`mkdir` is atomic) with the owner's pid inside; a lock whose owner process is gone is
 * broken. Within one process, callers queue on a promise chain so they do not poll each other.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsComposeError } from '../../errors.js';
import { isErrno, pidAlive, tempName } from './fsutil.js';

const chains = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** Give up after this many ms (default 120 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

async function tryBreakStale(path: string): Promise<void> {
  let owner: number | undefined;
  try {
    owner = Number((await readFile(`${path}/owner`, 'utf8')).split('\n')[0]);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    // No owner file yet: the owner is between mkdir and writeFile, or died there. Break it only when old.
    try {
      const st = await stat(path);
      if (Date.now() - st.mtimeMs < 10_000) return;
    } catch {
      return;
    }
  }
  if (owner !== undefined && pidAlive(owner)) return;
  const aside = `${path}.stale-${tempName()}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  await rm(aside, { recursive: true, force: true });
}

async function acquire(path: string, opts: LockOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let delay = 10;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      await mkdir(path);
      await writeFile(`${path}/owner`, `${process.pid}\n`);
      return;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    await tryBreakStale(path);
    if (Date.now() > deadline) {
      throw new TsComposeError('TSC_LOCKED', `timed out waiting for the lock ${path}`, {
        hint: 'another tscompose process is using the image store; if none is running, remove that directory',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Runs `fn` holding the lock directory `path` (created next to the store's data). */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const prev = chains.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chain = prev.then(() => mine);
  chains.set(path, chain);
  try {
    await prev;
    await acquire(path, opts);
    try {
      return await fn();
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  } finally {
    release();
    if (chains.get(path) === chain) chains.delete(path);
  }
}
