/**
 * The one inter-process lock of tscompose's state (the native runtime's state directory, the image store, the
 * network and DNS state): a symbolic link whose target is its holder's pid, made with symlink(2), which is atomic
 * on every local filesystem and fails when the name exists. One call takes the lock with its pid in it, one unlink
 * releases it (a `down` of 20 containers takes ~110 locks; the directory with a `pid` file that came before took
 * six calls each: mkdir, open, write, close, unlink, rmdir).
 *
 * - A lock whose holder is gone (a killed CLI) is stale and taken over, so a `kill -9` never wedges later
 *   commands.
 * - A lock of the earlier shape (a directory holding a file `pid`, left by an older tscompose or held by one of its
 *   processes still running) is honoured the same way; one without a pid (its holder died between mkdir and
 *   writing it) is taken over once it is older than PIDLESS_GRACE_MS. An older tscompose in turn waits on a link
 *   as on a lock being taken, until it is gone.
 * - Callers in this process queue on a promise first, so the next one starts as soon as the previous one is
 *   done instead of at its next poll (`down` of 20 containers in parallel chains spent most of its time so).
 * - A caller that cannot get the lock within `timeoutMs` of its turn (a live process holds it) gets a
 *   LockTimeoutError naming the lock and its holder.
 *
 * Re-entrant use is NOT supported (it deadlocks until the timeout): keep critical sections short.
 *
 * Reading a holder's pid is a synchronous readlink; taking and releasing stay asynchronous: a symlink or unlink on
 * ext4 waits for the journal while other processes fsync, which must not stall the main thread.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { CodedError, errnoCode, isErrno } from '../errors.js';
import { pidAlive } from './proc.js';

export interface LockOptions {
  /** Give up after waiting this many ms for another process to release the lock (default 60 s). */
  readonly timeoutMs?: number | undefined;
  /** Stop waiting (throws the signal's reason) when this aborts; noticed at the caller's turn and at each poll. */
  readonly signal?: AbortSignal | undefined;
}

/** Another live process held the lock for longer than the caller would wait. */
export class LockTimeoutError extends CodedError {
  readonly lockPath: string;
  /** The holder's pid when the waiter gave up (undefined when the lock had none yet). */
  readonly holder: number | undefined;

  constructor(lockPath: string, holder: number | undefined) {
    const by = holder === undefined ? '' : ` (held by pid ${holder})`;
    super('TSC_LOCKED', `timed out waiting for the lock ${lockPath}${by}`, {
      hint:
        `another process holds the lock${by}; wait for it to finish, ` + `or if it is stuck stop it, or if no such process runs remove ${lockPath}`,
    });
    this.lockPath = lockPath;
    this.holder = holder;
  }
}

export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** How old a lock without a pid (a directory of the earlier shape) must be before it counts as abandoned. */
const PIDLESS_GRACE_MS = 10_000;
/** The pid file of a lock of the earlier shape, a directory. */
const LEGACY_PID_FILE = 'pid';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per lock path, the end of this process's queue for it (a promise that never rejects). */
const localQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the lock `lockPath` (its parent directories are made as needed). Waits, polling, while another
 * live process holds it; takes over a lock whose holder died. Resolves or rejects as `fn` does, and releases the
 * lock either way.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const previous = localQueues.get(lockPath) ?? Promise.resolve();
  const mine = previous.then(() => holdFileLock(lockPath, fn, opts));
  const tail = mine.then(
    () => undefined,
    () => undefined,
  );
  localQueues.set(lockPath, tail);
  try {
    return await mine;
  } finally {
    if (localQueues.get(lockPath) === tail) localQueues.delete(lockPath);
  }
}

async function holdFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release(lockPath);
  }
}

/** Removes the lock: one unlink of our link. */
async function release(lockPath: string): Promise<void> {
  await fs.unlink(lockPath).catch(() => undefined);
}

async function acquire(lockPath: string, opts: LockOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const started = Date.now();
  let delay = 2;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      await fs.symlink(String(process.pid), lockPath);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') {
        await fs.mkdir(path.dirname(lockPath), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw e;
    }
    const holder = lockHolder(lockPath);
    if (holder === undefined ? await pidlessAbandoned(lockPath) : !pidAlive(holder)) {
      await takeOver(lockPath, holder);
      continue;
    }
    if (Date.now() - started > timeoutMs) throw new LockTimeoutError(lockPath, holder);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * The pid of the lock's holder: the link's target, or the `pid` file of a lock of the earlier shape (a directory);
 * undefined when there is no lock, or a directory without a pid (yet).
 */
export function lockHolder(lockPath: string): number | undefined {
  let text = '';
  try {
    text = readlinkSync(lockPath);
  } catch (e) {
    if (!isErrno(e, 'EINVAL')) return undefined; // EINVAL: not a link
    try {
      text = readFileSync(path.join(lockPath, LEGACY_PID_FILE), 'utf8');
    } catch {
      // none (yet)
    }
  }
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether a lock without a pid has been so long enough that its holder must have died. */
async function pidlessAbandoned(lockPath: string): Promise<boolean> {
  const st = await fs.lstat(lockPath).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > PIDLESS_GRACE_MS;
}

/**
 * Takes the stale lock (held by the dead `holder`, or by none) over atomically: only one waiter's rename
 * succeeds, and a lock re-taken meanwhile by a live process is put back (if the name is still free; else its
 * holder already lost it). The caller then tries to take the lock afresh.
 */
async function takeOver(lockPath: string, holder: number | undefined): Promise<void> {
  const grave = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockPath, grave);
  } catch {
    return; // another waiter took it over first
  }
  const again = lockHolder(grave);
  if (again !== undefined && again !== holder && pidAlive(again)) await fs.rename(grave, lockPath).catch(() => undefined);
  await fs.rm(grave, { recursive: true, force: true });
}
