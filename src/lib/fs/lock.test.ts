import { describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDirs } from './__fixtures__/fresh-dirs.js';
import { CodedError } from '../errors.js';
import { lockHolder, LockTimeoutError, withLock } from './lock.js';
import { lockPresent as present } from './__fixtures__/lock-present.js';

const fresh = freshDirs('tsc-lock-');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  expect(r.status).toBe(0);
  return r.pid!;
}

describe('withLock', () => {
  test('returns fn’s value; holds a link to our pid meanwhile; removes it after', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const v = await withLock(lock, async () => {
      expect(lstatSync(lock).isSymbolicLink()).toBe(true);
      expect(readlinkSync(lock)).toBe(String(process.pid));
      expect(lockHolder(lock)).toBe(process.pid);
      return 42;
    });
    expect(v).toBe(42);
    expect(present(lock)).toBe(false);
    expect(lockHolder(lock)).toBeUndefined();
  });

  test('a lock of the earlier shape (a directory with a pid file): its holder is read, waited for while alive, taken over when dead', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), '1'); // init: alive
    expect(lockHolder(lock)).toBe(1);
    await expect(withLock(lock, async () => 'no', { timeoutMs: 100 })).rejects.toMatchObject({ holder: 1 });
    writeFileSync(join(lock, 'pid'), String(deadPid()));
    writeFileSync(join(lock, 'stray'), 'x');
    expect(await withLock(lock, async () => readlinkSync(lock), { timeoutMs: 2000 })).toBe(String(process.pid));
    expect(readdirSync(d)).toEqual([]); // the directory, its files and the grave are gone
  });

  test('creates missing parent directories of the lock', async () => {
    const d = fresh();
    const lock = join(d, 'locks', 'deeper', 'c-1');
    expect(await withLock(lock, async () => present(lock))).toBe(true);
    expect(present(lock)).toBe(false);
    expect(existsSync(join(d, 'locks', 'deeper'))).toBe(true);
  });

  test('serialises concurrent critical sections', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const counterFile = join(d, 'counter');
    writeFileSync(counterFile, '0');
    let inside = 0;
    let maxInside = 0;
    const N = 6;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        withLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const v = Number(readFileSync(counterFile, 'utf8'));
          await sleep(i % 3); // yield mid-section: an unlocked read-modify-write would lose updates
          writeFileSync(counterFile, String(v + 1));
          inside--;
        }),
      ),
    );
    expect(Number(readFileSync(counterFile, 'utf8'))).toBe(N);
    expect(maxInside).toBe(1);
    expect(present(lock)).toBe(false);
  });

  test('serialises callers in call order and returns each one’s value', async () => {
    const lock = join(fresh(), 'lock');
    const log: string[] = [];
    const job = (name: string) =>
      withLock(lock, async () => {
        log.push(`+${name}`);
        await sleep(20);
        log.push(`-${name}`);
        return name;
      });
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['+a', '-a', '+b', '-b', '+c', '-c']);
    expect(present(lock)).toBe(false);
  });

  test('takes over a lock whose holder pid is dead', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    symlinkSync(String(deadPid()), lock);
    const started = Date.now();
    const pidInside = await withLock(lock, async () => readlinkSync(lock), { timeoutMs: 2000 });
    expect(pidInside).toBe(String(process.pid));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(present(lock)).toBe(false);
    expect(readdirSync(d)).toEqual([]); // the stale lock's grave is gone too
  });

  test('takes over a dead holder’s lock of the earlier shape whose pid has a trailing newline', async () => {
    const lock = join(fresh(), 'lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), `${deadPid()}\n`);
    expect(await withLock(lock, async () => 'ok', { timeoutMs: 2000 })).toBe('ok');
  });

  test('takes over a pid-less lock dir (the earlier shape) older than the grace period', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(await withLock(lock, async () => 'got it', { timeoutMs: 2000 })).toBe('got it');
    expect(present(lock)).toBe(false);
  });

  test('waits on a fresh pid-less lock dir (the earlier shape: its holder is writing the pid)', async () => {
    const lock = join(fresh(), 'lock');
    mkdirSync(lock);
    await expect(withLock(lock, async () => 'no', { timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(present(lock)).toBe(true);
  });

  test('waits for a live holder and times out with a LockTimeoutError, leaving its lock alone', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    symlinkSync('1', lock); // init: alive
    let ran = false;
    const err = await withLock(
      lock,
      async () => {
        ran = true;
      },
      { timeoutMs: 150 },
    ).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toMatchObject({ code: 'TSC_LOCKED', exitCode: 1, lockPath: lock, holder: 1, name: 'LockTimeoutError' });
    expect((err as Error).message).toMatch(/^timed out waiting for the lock .*\/lock \(held by pid 1\)/);
    expect((err as LockTimeoutError).hint).toContain(lock);
    expect(readlinkSync(lock)).toBe('1');
  });

  test('an aborted signal stops the wait', async () => {
    const lock = join(fresh(), 'lock');
    symlinkSync('1', lock);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 30);
    await expect(withLock(lock, async () => 'no', { signal: ac.signal })).rejects.toThrow('cancelled');
    expect(readlinkSync(lock)).toBe('1');
  });

  test('a waiter gets the lock once the live holder releases it', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withLock(lock, async () => {
      order.push('first in');
      await held;
      order.push('first out');
    });
    await sleep(10);
    const second = withLock(lock, async () => {
      order.push('second in');
    });
    await sleep(40);
    expect(order).toEqual(['first in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  test('waits for a holder in another process, then takes the lock', async () => {
    const lock = join(fresh(), 'lock');
    const script = `const fs = require('fs'); fs.symlinkSync(String(process.pid), process.argv[1]);
      setTimeout(() => fs.unlinkSync(process.argv[1]), 200);`;
    const child = spawn(process.execPath, ['-e', script, lock], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    while (!present(lock)) await sleep(5);
    const started = Date.now();
    expect(await withLock(lock, async () => readlinkSync(lock), { timeoutMs: 5000 })).toBe(String(process.pid));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await exited;
  });

  test('the lock dir is removed after fn throws, and the error comes through', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const boom = new Error('boom');
    await expect(
      withLock(lock, async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(present(lock)).toBe(false);
    expect(await withLock(lock, async () => 'again', { timeoutMs: 500 })).toBe('again');
  });
});

describe('withLock within one process', () => {
  test('callers queue in order, one at a time; a failing holder does not block the next', async () => {
    const lock = join(fresh(), 'l');
    const order: string[] = [];
    let inside = 0;
    const hold = (name: string, fail = false) =>
      withLock(lock, async () => {
        inside++;
        expect(inside).toBe(1);
        order.push(name);
        await sleep(5);
        inside--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([hold('a'), hold('b', true), hold('c'), hold('d'), hold('e')]);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(present(lock)).toBe(false);
  });

  test('a caller that times out does not block those queued after it', async () => {
    const lock = join(fresh(), 'lock');
    symlinkSync('1', lock);
    const first = withLock(lock, async () => 'no', { timeoutMs: 50 });
    const second = withLock(lock, async () => 'yes', { timeoutMs: 5000 });
    await expect(first).rejects.toBeInstanceOf(LockTimeoutError);
    rmSync(lock); // the other process releases it
    expect(await second).toBe('yes');
  });
});
